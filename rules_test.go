package axiom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

func TestCheckEmail(t *testing.T) {
	for _, tt := range []struct {
		email string
		ok    bool
	}{
		{"jane.doe@example.com", true},
		{"a@b", true},
		{"o'brien+crm@mail.example.co.uk", true},
		{"josé@exämple.com", true},
		{"", false},
		{"@example.com", false},
		{"jane@", false},
		{"jane@@example.com", false},
		{"jane..doe@example.com", false},
		{".jane@example.com", false},
		{`"jane doe"@example.com`, false},
		{"jane@[127.0.0.1]", false},
		{"jane@-example.com", false},
		{"jane@example..com", false},
		{strings.Repeat("a", 65) + "@example.com", false},
		{"jane@" + strings.Repeat("a", 64) + ".com", false},
	} {
		if err := axiom.CheckEmail(tt.email); (err == nil) != tt.ok {
			t.Errorf("CheckEmail(%q) = %v, want ok %v", tt.email, err, tt.ok)
		}
	}
}

func TestIDs(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	id := axiom.NewID(axiom.PrefixLead, now)
	if !axiom.ValidID(axiom.PrefixLead, id) || len(id) != len(axiom.PrefixLead)+22 {
		t.Errorf("NewID = %q: not a valid lead id", id)
	}
	if later := axiom.NewID(axiom.PrefixLead, now.Add(time.Millisecond)); later <= id {
		t.Errorf("ids do not sort by time: %s then %s", id, later)
	}
	// Many at once, in one millisecond: still in creation order.
	prev := id
	for range 10000 {
		next := axiom.NewID(axiom.PrefixLead, now)
		if next <= prev || !axiom.ValidID(axiom.PrefixLead, next) {
			t.Fatalf("NewID after %s = %s: not later", prev, next)
		}
		prev = next
	}
	for _, bad := range []string{"cnt_", "cmp_123", "cnt_12-45", "cnt_" + strings.Repeat("a", 33), "12345"} {
		if axiom.ValidID(axiom.PrefixLead, bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
	if !axiom.ValidID(axiom.PrefixLead, "cnt_12345") {
		t.Error("the page's own cnt_12345 must be valid")
	}
}

func TestLeadRules(t *testing.T) {
	now := time.Date(2026, 12, 4, 1, 2, 3, 456789, time.UTC)
	l := axiom.NewLead("acc_1", axiom.Lead{Name: "Jane Doe", Email: "Jane@Example.com"}, now)
	if l.Type != "lead" || l.Status != "active" || l.Tags == nil || l.CustomFields == nil {
		t.Errorf("defaults not applied: %+v", l)
	}
	if !l.CreatedAt.Equal(axiom.StoreTime(now)) || l.CreatedAt.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("CreatedAt %v: want whole milliseconds", l.CreatedAt)
	}
	if axiom.EmailKey(l.Email) != axiom.EmailKey("jane@example.COM") {
		t.Error("emails differing in case must clash")
	}
	email := "new@example.com"
	p := axiom.LeadPatch{Email: &email, Tags: &[]string{"vip"}}.Apply(l, now.Add(time.Hour))
	if p.Email != email || p.Name != l.Name || len(p.Tags) != 1 || !p.UpdatedAt.After(l.UpdatedAt) {
		t.Errorf("patch: %+v", p)
	}
	if got := (axiom.Lead{Name: "Jane O'Brien", Email: "j.ob@ex.com", Tags: []string{"VIP-2"}}).SearchText(); got != "jane o brien j ob ex com vip 2" {
		t.Errorf("SearchText = %q", got)
	}
}

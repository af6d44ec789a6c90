package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// searchLeads are the leads the search tests look through.
func searchLeads(accountID string) []axiom.Lead {
	return []axiom.Lead{
		{AccountID: accountID, Name: "John Smith", Email: "john.smith@acme.com", Company: "Acme Corp",
			Phone: "+11234567890", Tags: []string{"buyer", "residential"}},
		{AccountID: accountID, Name: "Jane Doe", Email: "jane@example.org", Company: "Smithson Ltd",
			Phone: "+44 20 7946 0958", Tags: []string{"seller"}},
		{AccountID: accountID, Name: "Ünal Çelik", Email: "unal@firma.com.tr", Company: "Firma",
			Tags: []string{"VIP", "long-term"}},
		// Words that are operators of full-text query languages.
		{AccountID: accountID, Name: "Bob O'Brien", Email: "bob@obrien.ie", Company: "Near Space",
			Phone: "555-0100", Tags: []string{"and", "or"}},
	}
}

// matches is the search rule itself: every word of q begins a word of the
// lead's name, email, company, phone or tags.
func matches(l axiom.Lead, q string) bool {
	var words []string
	for _, f := range append([]string{l.Name, l.Email, l.Company, l.Phone}, l.Tags...) {
		words = append(words, axiom.SearchWords(f)...)
	}
	for _, w := range axiom.SearchWords(q) {
		if !slices.ContainsFunc(words, func(lw string) bool { return strings.HasPrefix(lw, w) }) {
			return false
		}
	}
	return true
}

func testLeadSearch(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	byName := map[string]axiom.Lead{}
	var all []axiom.Lead
	for _, l := range searchLeads(a.ID) {
		l = createLead(t, s, l)
		byName[l.Name] = l
		all = append(all, l)
	}
	// Another account's lead matches the same words and must never show.
	for _, l := range searchLeads(b.ID) {
		createLead(t, s, l)
	}
	const john, jane, unal, bob = "John Smith", "Jane Doe", "Ünal Çelik", "Bob O'Brien"
	everyone := []string{john, jane, unal, bob}

	for _, tc := range []struct {
		q    string
		want []string
	}{
		// Prefixes, in any case, of any field.
		{"smi", []string{john, jane}},
		{"SMITH", []string{john, jane}},
		{"Smithson", []string{jane}},
		{"mith", nil}, // inside a word, not at its start
		{"j", []string{john, jane}},
		{"acme", []string{john}},
		{"corp", []string{john}},
		{"Buy", []string{john}},
		{"resid", []string{john}},
		{"long term", []string{unal}},
		{"vip", []string{unal}},
		// Several words: all must match, each anywhere.
		{"john acme", []string{john}},
		{"smith john", []string{john}},
		{"john seller", nil},
		{"jane smithson seller", []string{jane}},
		// Emails split into words.
		{"example", []string{jane}},
		{"org", []string{jane}},
		{"acme.com", []string{john}},
		{"john.smith@acme.com", []string{john}},
		{"unal", []string{unal}},
		// Phones: runs of digits.
		{"11234567890", []string{john}},
		{"+1123", []string{john}},
		{"+1 123", nil},
		{"7946", []string{jane}},
		{"0958", []string{jane}},
		{"555-0100", []string{bob}},
		// Letters beyond ASCII: case-insensitive, diacritics significant.
		{"ünal", []string{unal}},
		{"ÜNAL", []string{unal}},
		{"çel", []string{unal}},
		{"ÇELIK", []string{unal}},
		{"cel", nil},
		// No word: no filter.
		{"", everyone},
		{"   ", everyone},
		{"*", everyone},
		{"-- ;", everyone},
		{`"`, everyone},
		// Query syntax is only text: its words are searched for as words.
		{`" OR 1=1 --`, nil},
		{`' OR '1'='1`, nil},
		{"NEAR(", []string{bob}},
		{"NEAR(john smith, 2)", nil},
		{"a AND", []string{bob}},
		{"AND", []string{bob}},
		{"or", []string{jane, bob}},
		{"john OR jane", nil},
		{"john NOT smith", nil},
		{"smi*", []string{john, jane}},
		{"^john", []string{john}},
		{"name:john", nil},
		{"{name}: john", nil},
		{"(john", []string{john}},
		{`"john"`, []string{john}},
		{"-john", []string{john}},
		{"john%", []string{john}},
		{"_", everyone},
		{`\`, everyone},
		{"'; DROP TABLE leads; --", nil},
	} {
		var want []string
		for _, l := range all {
			if matches(l, tc.q) {
				want = append(want, l.ID)
			}
		}
		var hand []string
		for _, name := range tc.want {
			hand = append(hand, byName[name].ID)
		}
		slices.Sort(want)
		slices.Sort(hand)
		if !slices.Equal(want, hand) {
			t.Fatalf("search %q: the test's expectation %v disagrees with the rule", tc.q, tc.want)
		}
		got := ids(listAll(t, s, a.ID, axiom.Query{Limit: 2, Search: tc.q}))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			var names []string
			for _, id := range got {
				for _, l := range all {
					if l.ID == id {
						names = append(names, l.Name)
					}
				}
			}
			t.Errorf("search %q = %q; want %q", tc.q, names, tc.want)
		}
	}
	// The store still answers after all that syntax.
	if _, err := s.GetLead(ctx, a.ID, byName[john].ID); err != nil {
		t.Errorf("GetLead after the searches: %v", err)
	}

	// A search pages and sorts like any list.
	q := axiom.Query{Page: 1, Limit: 1, Sort: "name", Search: "smi"}
	page, err := s.ListLeads(ctx, a.ID, q)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != byName[jane].ID || !page.HasMore {
		t.Errorf("ListLeads(%+v) = %v, more %v, %v; want [%s] and more", q, ids(page.Items), page.HasMore, err, byName[jane].ID)
	}
	q.Page = 2
	page, err = s.ListLeads(ctx, a.ID, q)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != byName[john].ID || page.HasMore {
		t.Errorf("ListLeads(%+v) = %v, more %v, %v; want [%s] and no more", q, ids(page.Items), page.HasMore, err, byName[john].ID)
	}
}

func testLeadSearchFollowsChanges(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	l := createLead(t, s, fullLead(a.ID))
	search := func(q string) []string {
		t.Helper()
		return ids(listAll(t, s, a.ID, axiom.Query{Limit: 10, Search: q}))
	}
	check := func(q string, found bool) {
		t.Helper()
		got := search(q)
		if found && !slices.Equal(got, []string{l.ID}) || !found && len(got) != 0 {
			t.Errorf("search %q = %v; want found=%v", q, got, found)
		}
	}
	check("smith", true)
	check("buyer", true)
	// Changing fields other than the searched ones keeps the lead found.
	if _, err := s.UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Status: new("won"), Notes: &[]string{"smythe"}}, time.Now()); err != nil {
		t.Fatalf("UpdateLead: %v", err)
	}
	check("smith", true)
	check("smythe", false) // notes are not searched
	if _, err := s.UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Name: new("Jonathan Smythe"), Email: new("jon@smythe.example"),
		Tags: &[]string{}}, time.Now()); err != nil {
		t.Fatalf("UpdateLead: %v", err)
	}
	check("smith", false)
	check("buyer", false)
	check("smythe", true)
	check("jonathan acme", true)
	if err := s.DeleteLead(ctx, a.ID, l.ID); err != nil {
		t.Fatalf("DeleteLead: %v", err)
	}
	check("smythe", false)
	check("", false)
}

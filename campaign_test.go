package axiom_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/axiomkit/axiom"
)

// The life cycle, spelled out: every operation in every status.
func TestCampaignLifeCycle(t *testing.T) {
	const (
		d = axiom.CampaignDraft
		s = axiom.CampaignScheduled
		g = axiom.CampaignSending
		x = axiom.CampaignSent
		c = axiom.CampaignCancelled
	)
	allowed := map[axiom.CampaignOp][]axiom.CampaignStatus{
		axiom.OpUpdate:   {d, s},
		axiom.OpDelete:   {d, s, x, c},
		axiom.OpSchedule: {d, s},
		axiom.OpSend:     {d, s},
		axiom.OpCancel:   {d, s, g},
		axiom.OpFinish:   {g},
	}
	to := map[axiom.CampaignOp]axiom.CampaignStatus{
		axiom.OpSchedule: s, axiom.OpSend: g, axiom.OpCancel: c, axiom.OpFinish: x,
	}
	for op, from := range allowed {
		for _, st := range []axiom.CampaignStatus{d, s, g, x, c} {
			want := false
			for _, f := range from {
				want = want || f == st
			}
			if got := st.Allows(op); got != want {
				t.Errorf("%s allows %s = %v, want %v", st, op, got, want)
			}
		}
		if op.To() != to[op] {
			t.Errorf("%s leaves %q, want %q", op, op.To(), to[op])
		}
	}
	e := axiom.CampaignStateError("cmp_1", x, axiom.OpUpdate)
	if e.Code != axiom.CodeInvalidState || e.Message != "Campaign 'cmp_1' is sent and can no longer be changed" {
		t.Errorf("state error %+v", e)
	}
}

func TestAudience(t *testing.T) {
	lead := axiom.Lead{Type: "client", Status: "active", Tags: []string{"buyer", "vip"}}
	for _, tt := range []struct {
		name string
		a    axiom.Audience
		l    axiom.Lead
		want bool
	}{
		{"everyone", axiom.Audience{}, lead, true},
		{"a tag", axiom.Audience{Tags: []string{"vip"}}, lead, true},
		{"another tag", axiom.Audience{Tags: []string{"seller"}}, lead, false},
		{"type and status", axiom.Audience{Types: []string{"client"}, Statuses: []string{"active"}}, lead, true},
		{"wrong type", axiom.Audience{Types: []string{"vendor"}}, lead, false},
		{"unsubscribed never", axiom.Audience{Statuses: []string{"unsubscribed"}},
			axiom.Lead{Status: axiom.LeadStatusUnsubscribed}, false},
	} {
		if got := tt.a.Matches(tt.l); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Select is the one rule of who is mailed, who is left out and counted,
// and who is not of the audience at all.
func TestAudienceSelect(t *testing.T) {
	active := axiom.Lead{Type: "client", Status: "active", Tags: []string{"buyer"}}
	unsubscribed := axiom.Lead{Type: "client", Status: axiom.LeadStatusUnsubscribed, Tags: []string{"buyer"}}
	for _, tt := range []struct {
		name       string
		a          axiom.Audience
		l          axiom.Lead
		suppressed bool
		want       axiom.Selection
	}{
		{"mailed", axiom.Audience{}, active, false, axiom.Mailed},
		{"suppressed address", axiom.Audience{}, active, true, axiom.Suppressed},
		{"unsubscribed lead", axiom.Audience{Tags: []string{"buyer"}}, unsubscribed, false, axiom.Suppressed},
		{"unsubscribed and suppressed", axiom.Audience{}, unsubscribed, true, axiom.Suppressed},
		{"not of the audience, suppressed", axiom.Audience{Tags: []string{"seller"}}, active, true, axiom.NotInAudience},
		{"unsubscribed, outside the statuses asked for", axiom.Audience{Statuses: []string{"active"}}, unsubscribed, false, axiom.NotInAudience},
		{"wrong type", axiom.Audience{Types: []string{"vendor"}}, active, false, axiom.NotInAudience},
	} {
		if got := tt.a.Select(tt.l, tt.suppressed); got != tt.want {
			t.Errorf("%s: Select = %v, want %v", tt.name, got, tt.want)
		}
		if got := tt.a.Matches(tt.l); got != (tt.a.Select(tt.l, false) == axiom.Mailed) {
			t.Errorf("%s: Matches = %v, unlike Select", tt.name, got)
		}
	}
}

func TestNewSuppression(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	s, err := axiom.NewSuppression("acc_1", "Jane.Doe@Example.COM", axiom.SuppressBounced, strings.Repeat("é", 600), "cmp_1", now)
	if err != nil || s.Key != axiom.SuppressionKey("jane.doe@example.com") || len(s.Key) != 64 || s.Email != "Jane.Doe@Example.COM" || s.AccountID != "acc_1" ||
		s.CampaignID != "cmp_1" || !s.CreatedAt.Equal(now.Truncate(time.Millisecond)) || utf8.RuneCountInString(s.Detail) != axiom.MaxSuppressionDetail {
		t.Errorf("NewSuppression = %+v, %v", s, err)
	}
	for _, tt := range []struct {
		email  string
		reason axiom.SuppressionReason
	}{{"not an address", axiom.SuppressManual}, {"jane@example.com", "deleted"}, {"jane@example.com", ""}} {
		if _, err := axiom.NewSuppression("acc_1", tt.email, tt.reason, "", "", now); axiom.ErrorCodeOf(err) != axiom.CodeInvalidParameter {
			t.Errorf("NewSuppression(%q, %q): %v, want invalid_parameter", tt.email, tt.reason, err)
		}
	}
	for _, r := range axiom.SuppressionReasons() {
		if !r.Valid() {
			t.Errorf("%s is not valid", r)
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := axiom.CheckSchedule(now.Add(time.Second), now); err != nil {
		t.Errorf("a future time: %v", err)
	}
	if err := axiom.CheckSchedule(now, now); axiom.ErrorCodeOf(err) != axiom.CodeInvalidState {
		t.Errorf("now: %v, want invalid_state", err)
	}
}

func TestMessageRedactedAndBounded(t *testing.T) {
	m := axiom.Message{
		HTML: `<a href="https://x/v1/t/c/OPENTOKEN/0">a</a><a href="https://x/v1/t/c/OLDLINKTOKEN">b</a><img src="https://x/v1/t/o/OPENTOKEN">` +
			`<a href="https://x/v1/u/UNSUBTOKEN">u</a>`,
		Text:      "Unsubscribe: https://x/v1/u/UNSUBTOKEN",
		OpenToken: "OPENTOKEN", UnsubscribeToken: "UNSUBTOKEN",
		LegacyLinkTokens: []string{"OLDLINKTOKEN"},
		Status:           axiom.MessageQueued,
	}
	r := m.Redacted()
	for _, tok := range []string{"OPENTOKEN", "UNSUBTOKEN", "OLDLINKTOKEN"} {
		if strings.Contains(r.HTML+r.Text+r.OpenToken+r.UnsubscribeToken+strings.Join(r.LegacyLinkTokens, " "), tok) {
			t.Errorf("Redacted kept %s: %+v", tok, r)
		}
	}
	if !strings.Contains(r.HTML, "/t/c/REDACTED/0") || !strings.Contains(r.HTML, "/t/c/REDACTED\"") || m.LegacyLinkTokens[0] != "OLDLINKTOKEN" {
		t.Errorf("Redacted = %+v (original %+v)", r, m)
	}
	for _, tc := range []struct {
		size int
		want axiom.MessageStatus
	}{{axiom.MaxMessageBytes, axiom.MessageQueued}, {axiom.MaxMessageBytes + 1, axiom.MessageFailed}} {
		b := axiom.Message{HTML: strings.Repeat("x", tc.size-1), Text: "y", Status: axiom.MessageQueued}.Bounded()
		if b.Status != tc.want || (tc.want == axiom.MessageFailed && (b.HTML != "" || b.Error == "")) {
			t.Errorf("Bounded of %d bytes: status %s, %d bytes, error %q", tc.size, b.Status, len(b.HTML), b.Error)
		}
	}
}

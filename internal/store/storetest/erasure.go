package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

var erasureTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"LeadErasure", testLeadErasure},
}

// testLeadErasure checks each place docs/privacy.md lists: deleting a lead
// erases its messages (gone from the listing and GET, every token dead,
// the campaign's figures unchanged), keeps only the hash of its
// suppression entry (still suppressing), and deletes its search words and
// the Idempotency-Key answers that name it.
func testLeadErasure(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	alice := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Alice Zebulon", Email: "Alice.Zebulon@example.com"})
	bob := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Bob", Email: "bob@example.com"})
	c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
	sent := map[string]axiom.Message{} // by lead, with its tokens
	enqueue(t, s, c, "", 10, func(m axiom.Message) { sent[m.LeadID] = m })
	at := now()
	claimed, err := s.ClaimMessages(ctx, workerA, at, time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	for _, m := range claimed {
		o := axiom.Outcome{Status: axiom.MessageSent, At: at}
		if m.LeadID == bob.ID {
			sup, _ := axiom.NewSuppression(a.ID, m.To, axiom.SuppressBounced, "550 5.1.1 <"+m.To+">: no such user", c.ID, at)
			o = axiom.Outcome{Status: axiom.MessageFailed, Error: "550 5.1.1 <" + m.To + ">", At: at, Suppress: &sup}
		}
		if err := s.CompleteMessage(ctx, workerA, m.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	mine := sent[alice.ID]
	if err := s.RecordOpen(ctx, mine.OpenToken, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordClick(ctx, mine.OpenToken, 0, at); err != nil {
		t.Fatal(err)
	}
	sup, _ := axiom.NewSuppression(a.ID, mine.To, axiom.SuppressUnsubscribed, "reply from <"+mine.To+">", c.ID, at)
	if err := s.Unsubscribe(ctx, mine.UnsubscribeToken, sup); err != nil {
		t.Fatal(err)
	}
	// The stored answers of a create of each lead.
	for _, l := range []axiom.Lead{alice, bob} {
		r := claim(a.ID, "create-"+l.ID, at)
		if _, _, err := s.ClaimIdempotencyKey(ctx, r, time.Hour, time.Minute); err != nil {
			t.Fatal(err)
		}
		r.Status, r.ContentType = 201, "application/json"
		r.Body = []byte(`{"data":{"id":"` + l.ID + `","email":"` + l.Email + `"}}`)
		if err := s.CompleteIdempotencyKey(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.CampaignStats(ctx, a.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteLead(ctx, a.ID, alice.ID); err != nil {
		t.Fatal(err)
	}

	if after, err := s.CampaignStats(ctx, a.ID, c.ID); err != nil || after != before {
		t.Errorf("CampaignStats after the erasure = %+v, %v; want %+v as before", after, err, before)
	}
	if ms := allMessages(t, s, c); len(ms) != 1 || ms[0].LeadID != bob.ID {
		t.Errorf("ListMessages after the erasure = %+v; want only bob's", ms)
	}
	if _, err := s.GetMessage(ctx, a.ID, c.ID, mine.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("GetMessage of the erased message: %v; want not found", err)
	}
	if ms, err := s.LeadMessages(ctx, a.ID, alice.ID); err != nil || len(ms) != 0 {
		t.Errorf("LeadMessages of the erased lead = %d, %v", len(ms), err)
	}
	if evs, err := s.LeadEvents(ctx, a.ID, alice.ID); err != nil || len(evs) != 0 {
		t.Errorf("LeadEvents of the erased lead = %d, %v", len(evs), err)
	}
	dead := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, axiom.ErrNotFound) {
			t.Errorf("%s of the erased message: %v; want not found", what, err)
		}
	}
	dead("RecordOpen", s.RecordOpen(ctx, mine.OpenToken, at))
	dead("CheckOpen", s.CheckOpen(ctx, mine.OpenToken))
	for i := range campaignLinks {
		_, err := s.RecordClick(ctx, mine.OpenToken, i, at)
		dead("RecordClick", err)
		_, err = s.ClickTarget(ctx, mine.OpenToken, i)
		dead("ClickTarget", err)
	}
	_, err = s.GetUnsubscription(ctx, mine.UnsubscribeToken)
	dead("GetUnsubscription", err)
	dead("Unsubscribe", s.Unsubscribe(ctx, mine.UnsubscribeToken, sup))

	// The suppression keeps its hash, found by the address in any case.
	got, err := s.GetSuppression(ctx, a.ID, strings.ToLower(alice.Email))
	if err != nil || got.Email != "" || got.Detail != "" || got.ErasedAt == nil || got.Reason != axiom.SuppressUnsubscribed ||
		got.Key != axiom.SuppressionKey(alice.Email) || got.CampaignID != c.ID {
		t.Errorf("the erased suppression = %+v, %v; want its key and reason only", got, err)
	}
	if r, err := s.Suppressed(ctx, a.ID, []string{axiom.SuppressionKey(alice.Email)}); err != nil || r[axiom.SuppressionKey(alice.Email)] != axiom.SuppressUnsubscribed {
		t.Errorf("Suppressed of the erased address = %v, %v; want it unsubscribed", r, err)
	}
	page, err := s.ListSuppressions(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Sort: "email"}, "")
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("ListSuppressions = %+v, %v", page, err)
	}
	for _, e := range page.Items {
		if strings.Contains(strings.ToLower(e.Email+e.Detail), "alice") {
			t.Errorf("a listed suppression still names the erased address: %+v", e)
		}
	}
	// Bob's entry, his message and his stored answer are untouched.
	if got, err := s.GetSuppression(ctx, a.ID, bob.Email); err != nil || got.Email != bob.Email || got.ErasedAt != nil {
		t.Errorf("the other lead's suppression = %+v, %v", got, err)
	}
	if _, err := s.GetIdempotencyKey(ctx, a.ID, "create-"+alice.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("the stored answer naming the erased lead: %v; want it deleted", err)
	}
	if _, err := s.GetIdempotencyKey(ctx, a.ID, "create-"+bob.ID); err != nil {
		t.Errorf("the other lead's stored answer: %v; want it kept", err)
	}
	if p, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Search: "zebulon"}); err != nil || len(p.Items) != 0 {
		t.Errorf("search of the erased name = %d leads, %v", len(p.Items), err)
	}

	// Added again, the address is still left out: the same key.
	again := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "A", Email: "alice.zebulon@EXAMPLE.com"})
	if r, err := s.Suppressed(ctx, a.ID, []string{axiom.SuppressionKey(again.Email)}); err != nil || len(r) != 1 {
		t.Errorf("Suppressed of the lead added again = %v, %v; want suppressed", r, err)
	}
	// A lead mailed at an address it has since changed: both its addresses'
	// entries are erased, unless another lead of the account now has one.
	carol := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Carol", Email: "carol@example.com"})
	c2 := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C2", Template: tmpl.Slug}))
	enqueue(t, s, c2, "", 10, nil)
	if _, err := s.UpdateLead(ctx, a.ID, carol.ID, axiom.LeadPatch{Email: new("carol.new@example.com")}, at); err != nil {
		t.Fatal(err)
	}
	dave := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Dave", Email: "CAROL@example.com"})
	for _, e := range []string{"carol@example.com", "carol.new@example.com", "old.carol@example.com"} {
		sp, _ := axiom.NewSuppression(a.ID, e, axiom.SuppressManual, "", "", at)
		if _, _, err := s.AddSuppression(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteLead(ctx, a.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email  string
		erased bool
	}{{"carol@example.com", false}, {"carol.new@example.com", true}, {"old.carol@example.com", false}} {
		got, err := s.GetSuppression(ctx, a.ID, tc.email)
		if err != nil || (got.ErasedAt != nil) != tc.erased || (got.Email == "") != tc.erased {
			t.Errorf("the entry of %s (%s now has it: %v) = %+v, %v; want erased %v", tc.email, dave.ID, !tc.erased, got, err, tc.erased)
		}
	}
	for _, m := range allMessages(t, s, c2) {
		if m.LeadID == carol.ID || m.To == "carol@example.com" {
			t.Errorf("carol's message is still listed: %+v", m)
		}
	}

	// Erasing twice, or a lead that is gone, is not found.
	if err := s.DeleteLead(ctx, a.ID, alice.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("DeleteLead again: %v; want not found", err)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// enqueueTests are the cases of queuing an audience batch by batch.
var enqueueTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"AudienceLeads", testAudienceLeads},
	{"EnqueueMessages", testEnqueueMessages},
	{"EnqueueIsAtomic", testEnqueueIsAtomic},
	{"EnqueueRefused", testEnqueueRefused},
	{"ClaimEnqueue", testClaimEnqueue},
	{"FinishNeedsWholeEnqueue", testFinishNeedsWholeEnqueue},
	{"DeleteCampaignCascade", testDeleteCampaignCascade},
}

// leads creates n leads of account a and returns them in id order.
func leads(t *testing.T, s Store, a axiom.Account, n int) []axiom.Lead {
	t.Helper()
	out := make([]axiom.Lead, n)
	for i := range n {
		out[i] = createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint("Lead ", i), Email: fmt.Sprintf("lead%d@example.com", i)})
	}
	slices.SortFunc(out, func(a, b axiom.Lead) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out
}

func testAudienceLeads(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	all := leads(t, s, a, 7)
	leads(t, s, b, 3)
	var got []axiom.Lead
	for cursor := ""; ; {
		page, err := s.AudienceLeads(ctx, a.ID, cursor, 3)
		if err != nil {
			t.Fatalf("AudienceLeads: %v", err)
		}
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1].ID
	}
	if !slices.Equal(ids(got), ids(all)) {
		t.Errorf("AudienceLeads, 3 at a time = %v; want every lead of the account in id order %v", ids(got), ids(all))
	}
	for i, l := range got {
		checkLead(t, "AudienceLeads", l, all[i])
	}
	if page, err := s.AudienceLeads(ctx, a.ID, all[6].ID, 3); err != nil || len(page) != 0 {
		t.Errorf("AudienceLeads after the last = %v, %v; want none", ids(page), err)
	}
	if page, err := s.AudienceLeads(ctx, a.ID, all[2].ID, 100); err != nil || !slices.Equal(ids(page), ids(all[3:])) {
		t.Errorf("AudienceLeads after the third = %v, %v; want %v", ids(page), err, ids(all[3:]))
	}
}

// enqueueing is a sending campaign of a new account, its template and
// leads, whose enqueueing has begun.
func enqueueing(t *testing.T, s Store, n int) (axiom.Campaign, axiom.Template, []axiom.Lead) {
	t.Helper()
	a, tmpl := campaignSetup(t, s)
	ls := leads(t, s, a, n)
	c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
	return c, tmpl, ls
}

// claimHeld takes over the enqueueing of a campaign once its hold ends.
func claimHeld(t *testing.T, s Store) (axiom.Campaign, string, bool) {
	t.Helper()
	at := now().Add(2 * hold)
	c, cursor, ok, err := s.ClaimEnqueue(t.Context(), at, at.Add(hold))
	if err != nil {
		t.Fatalf("ClaimEnqueue: %v", err)
	}
	return c, cursor, ok
}

func testEnqueueMessages(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 5)
	first := []axiom.Message{render(c, tmpl, ls[0]), render(c, tmpl, ls[1]), render(c, tmpl, ls[1])}
	if err := s.EnqueueMessages(ctx, c.ID, first, ls[1].ID, now().Add(hold)); err != nil {
		t.Fatalf("EnqueueMessages: %v", err)
	}
	ms := allMessages(t, s, c)
	if len(ms) != 2 || ms[0].ID != first[0].ID || ms[1].ID != first[1].ID {
		t.Fatalf("messages = %+v; want the first two, in order (a lead's second left out)", ms)
	}
	// A lead with a message in the campaign is left out of later batches
	// too, and its links with it.
	again := []axiom.Message{render(c, tmpl, ls[1]), render(c, tmpl, ls[2])}
	if err := s.EnqueueMessages(ctx, c.ID, again, ls[2].ID, now().Add(hold)); err != nil {
		t.Fatalf("EnqueueMessages: %v", err)
	}
	ms = allMessages(t, s, c)
	if len(ms) != 3 || ms[2].ID != again[1].ID {
		t.Fatalf("messages = %+v; want 3, the last to %s", ms, ls[2].ID)
	}
	for _, m := range ms {
		if m.LeadID == ls[1].ID && m.ID != first[1].ID {
			t.Errorf("lead %s has message %s; want the first queued, %s", m.LeadID, m.ID, first[1].ID)
		}
	}
	_, err := s.RecordClick(ctx, again[0].OpenToken, 0, now())
	wantCode(t, "RecordClick of a link of a message left out", err, axiom.CodeNotFound)
	for i, u := range campaignLinks {
		if url, err := s.RecordClick(ctx, first[0].OpenToken, i, now()); err != nil || url != u {
			t.Errorf("RecordClick of a queued link = %q, %v; want %q", url, err, u)
		}
	}
	if got, err := s.GetCampaign(ctx, c.AccountID, c.ID); err != nil || got.Counts.Recipients != 3 || got.Status != axiom.CampaignSending {
		t.Errorf("campaign = %+v, %v; want sending to 3", got, err)
	}
	// An empty batch moves the cursor: its leads were none of the audience.
	if err := s.EnqueueMessages(ctx, c.ID, nil, ls[3].ID, now().Add(hold)); err != nil {
		t.Fatalf("EnqueueMessages of no message: %v", err)
	}
	got, cursor, ok := claimHeld(t, s)
	if !ok || got.ID != c.ID || cursor != ls[3].ID || got.Counts.Recipients != 3 {
		t.Errorf("ClaimEnqueue = %+v, %q, %v; want %s after %s", got, cursor, ok, c.ID, ls[3].ID)
	}
}

// A batch is queued whole or not at all.
func testEnqueueIsAtomic(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 4)
	if err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{render(c, tmpl, ls[0])}, ls[0].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	clash := []axiom.Message{render(c, tmpl, ls[1]), render(c, tmpl, ls[2])}
	clash[1].OpenToken = clash[0].OpenToken
	if err := s.EnqueueMessages(ctx, c.ID, clash, ls[2].ID, now().Add(hold)); err == nil {
		t.Fatal("EnqueueMessages of two messages sharing a token succeeded")
	}
	if ms := allMessages(t, s, c); len(ms) != 1 {
		t.Errorf("a failed batch left %d messages; want the 1 before it", len(ms))
	}
	if _, cursor, ok := claimHeld(t, s); !ok || cursor != ls[0].ID {
		t.Errorf("the cursor after a failed batch = %q, %v; want %s", cursor, ok, ls[0].ID)
	}
}

// Only a sending campaign still enqueueing takes messages.
func testEnqueueRefused(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	l := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "L", Email: "l@example.com"})
	for _, tc := range []struct {
		name string
		make func() axiom.Campaign
	}{
		{"draft", func() axiom.Campaign { return inStatus(t, s, a, tmpl, axiom.CampaignDraft) }},
		{"cancelled while enqueueing", func() axiom.Campaign {
			c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
			if _, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()}); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"deleted", func() axiom.Campaign {
			c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
			if _, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"wholly enqueued", func() axiom.Campaign {
			c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
			if _, err := s.FinishEnqueue(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"sent without enqueueing", func() axiom.Campaign { return inStatus(t, s, a, tmpl, axiom.CampaignSending) }},
	} {
		c := tc.make()
		err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{render(c, tmpl, l)}, l.ID, now().Add(hold))
		if !errors.Is(err, axiom.ErrInvalidState) {
			t.Errorf("EnqueueMessages to a %s campaign: %v; want ErrInvalidState", tc.name, err)
		}
		if got, err := s.GetCampaign(ctx, a.ID, c.ID); err == nil && got.Counts.Recipients != 0 {
			t.Errorf("a %s campaign took %d messages", tc.name, got.Counts.Recipients)
		}
	}
	if _, _, ok := claimHeld(t, s); ok {
		t.Errorf("ClaimEnqueue found a campaign to resume; none is enqueueing")
	}
	wantError(t, "FinishEnqueue of a missing campaign", finishErr(s.FinishEnqueue(ctx, "cmp_nope")), axiom.CampaignNotFound("cmp_nope"))
}

func testClaimEnqueue(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 3)
	if _, _, ok, err := s.ClaimEnqueue(ctx, now(), now().Add(hold)); err != nil || ok {
		t.Fatalf("ClaimEnqueue while the sender holds the campaign = %v, %v; want none", ok, err)
	}
	if err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{render(c, tmpl, ls[0])}, ls[0].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	// The sender dies: once its hold ends, another takes it over.
	at := now().Add(2 * hold)
	got, cursor, ok, err := s.ClaimEnqueue(ctx, at, at.Add(hold))
	if err != nil || !ok || got.ID != c.ID || cursor != ls[0].ID {
		t.Fatalf("ClaimEnqueue after the hold = %+v, %q, %v, %v; want %s after %s", got, cursor, ok, err, c.ID, ls[0].ID)
	}
	if got.Status != axiom.CampaignSending || got.Counts.Recipients != 1 || got.Template != tmpl.Slug || got.AccountID != c.AccountID {
		t.Errorf("the campaign claimed = %+v", got)
	}
	// Its new holder holds it.
	if _, _, ok, err := s.ClaimEnqueue(ctx, at, at.Add(hold)); err != nil || ok {
		t.Errorf("ClaimEnqueue of a campaign just claimed = %v, %v; want none", ok, err)
	}
	enqueue(t, s, got, cursor, 2, nil)
	if ms := allMessages(t, s, c); len(ms) != 3 {
		t.Errorf("resumed enqueueing queued %d messages in all; want 3", len(ms))
	}
	at = at.Add(10 * hold)
	if _, _, ok, err := s.ClaimEnqueue(ctx, at, at.Add(hold)); err != nil || ok {
		t.Errorf("ClaimEnqueue of a campaign wholly enqueued = %v, %v; want none", ok, err)
	}
	// A campaign cancelled while enqueueing is left alone.
	d := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: c.AccountID, Name: "D", Template: tmpl.Slug}))
	if _, err := s.ChangeCampaign(ctx, d.AccountID, d.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.ClaimEnqueue(ctx, at, at.Add(hold)); err != nil || ok {
		t.Errorf("ClaimEnqueue of a cancelled campaign = %v, %v; want none", ok, err)
	}
}

// Processes resuming at once each take their own campaign.
func testClaimEnqueueConcurrent(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	const campaigns, claimers = 3, 8
	for range campaigns {
		enqueueing(t, s, 1)
	}
	at := now().Add(2 * hold)
	var (
		mu  sync.Mutex
		got = map[string]int{}
		wg  sync.WaitGroup
	)
	for i := range claimers {
		wg.Go(func() {
			c, _, ok, err := ss[i%len(ss)].ClaimEnqueue(ctx, at, at.Add(hold))
			if err != nil {
				t.Errorf("ClaimEnqueue: %v", err)
			}
			if ok {
				mu.Lock()
				got[c.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != campaigns {
		t.Errorf("%d campaigns claimed by %d claimers; want all %d", len(got), claimers, campaigns)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("campaign %s claimed %d times", id, n)
		}
	}
}

// No message of a campaign is sent before its audience is wholly
// enqueued, and the campaign finishes only then, once nothing is queued:
// FinishEnqueue returns it sending, with every recipient and nothing sent.
func testFinishNeedsWholeEnqueue(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 2)
	if n, err := s.FinishCampaigns(ctx, now()); err != nil || n != 0 {
		t.Errorf("FinishCampaigns of a campaign enqueueing nothing yet = %d, %v; want 0", n, err)
	}
	if err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{render(c, tmpl, ls[0])}, ls[0].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.ClaimMessages(ctx, workerA, now(), time.Minute, 10); err != nil || len(ms) != 0 {
		t.Fatalf("ClaimMessages of a campaign still enqueueing = %d, %v; want none", len(ms), err)
	}
	if n, err := s.FinishCampaigns(ctx, now()); err != nil || n != 0 {
		t.Errorf("FinishCampaigns of a campaign still enqueueing = %d, %v; want 0", n, err)
	}
	if err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{render(c, tmpl, ls[1])}, ls[1].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	done, err := s.FinishEnqueue(ctx, c.ID)
	if err != nil || done.ID != c.ID || done.Status != axiom.CampaignSending ||
		done.Counts != (axiom.CampaignCounts{Recipients: 2}) {
		t.Fatalf("FinishEnqueue = %+v, %v; want it sending to 2, none sent", done, err)
	}
	if n, err := s.FinishCampaigns(ctx, now()); err != nil || n != 0 {
		t.Errorf("FinishCampaigns of a campaign with queued messages = %d, %v; want 0", n, err)
	}
	ms, err := s.ClaimMessages(ctx, workerA, now(), time.Minute, 10)
	if err != nil || len(ms) != 2 {
		t.Fatalf("ClaimMessages once enqueued = %d, %v; want 2", len(ms), err)
	}
	if err := s.CompleteMessage(ctx, workerA, ms[0].ID, axiom.Outcome{Status: axiom.MessageSent, At: now()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCampaign(ctx, c.AccountID, c.ID); got.Status != axiom.CampaignSending {
		t.Errorf("with a message still queued the campaign is %s; want sending", got.Status)
	}
	at := now()
	if err := s.CompleteMessage(ctx, workerA, ms[1].ID, axiom.Outcome{Status: axiom.MessageFailed, Error: "550", At: at}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != axiom.CampaignSent || got.CompletedAt == nil || !got.CompletedAt.Equal(at) ||
		got.Counts != (axiom.CampaignCounts{Recipients: 2, Sent: 1, Failed: 1}) {
		t.Errorf("the campaign after its last message = %+v, %v; want sent at %v", got, err, at)
	}

	// An empty audience: finished by the sweep once the enqueue is done.
	d, _, _ := enqueueing(t, s, 0)
	if n, err := s.FinishCampaigns(ctx, now()); err != nil || n != 0 {
		t.Errorf("FinishCampaigns of an empty campaign still enqueueing = %d, %v; want 0", n, err)
	}
	if _, err := s.FinishEnqueue(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FinishCampaigns(ctx, now()); err != nil || n != 1 {
		t.Errorf("FinishCampaigns once the enqueue is done = %d, %v; want 1", n, err)
	}
}

// Deleting a campaign deletes its messages and their links: their tokens,
// unique across campaigns, are free again.
func testDeleteCampaignCascade(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 1)
	m := render(c, tmpl, ls[0])
	if err := s.EnqueueMessages(ctx, c.ID, []axiom.Message{m}, ls[0].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOpen(ctx, m.OpenToken, now()); err != nil {
		t.Fatal(err)
	}
	wantError(t, "DeleteCampaign of a sending campaign", s.DeleteCampaign(ctx, c.AccountID, c.ID),
		axiom.CampaignStateError(c.ID, axiom.CampaignSending, axiom.OpDelete))
	if _, err := s.ChangeCampaign(ctx, c.AccountID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCampaign(ctx, c.AccountID, c.ID); err != nil {
		t.Fatal(err)
	}
	d := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: c.AccountID, Name: "D", Template: tmpl.Slug}))
	again := render(d, tmpl, ls[0])
	again.ID, again.OpenToken, again.UnsubscribeToken = m.ID, m.OpenToken, m.UnsubscribeToken
	if err := s.EnqueueMessages(ctx, d.ID, []axiom.Message{again}, ls[0].ID, now().Add(hold)); err != nil {
		t.Fatalf("EnqueueMessages with the deleted message's id and tokens: %v", err)
	}
	st, err := s.CampaignStats(ctx, d.AccountID, d.ID)
	if err != nil || st != (axiom.CampaignStats{Recipients: 1, Pending: 1}) {
		t.Errorf("CampaignStats of the new campaign = %+v, %v; want no event of the deleted one", st, err)
	}
}

// finishErr is the error of a FinishEnqueue.
func finishErr(_ axiom.Campaign, err error) error { return err }

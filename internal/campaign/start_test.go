package campaign_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
)

// A send answers once its first batch is queued, whatever the audience:
// the rest is left to a worker, which queues it from where the send
// stopped, each lead once, and delivers every message.
func TestSendAnswersAfterOneBatch(t *testing.T) {
	const leads, batch = 35, 10
	o := newOutbox(t, leads)
	svc, err := campaign.NewService(campaign.Config{Store: o.db, PublicURL: "https://mail.example.test/v1", Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	o.svc = svc
	c := o.send(t, o.account, o.tmpl)
	if c.Status != axiom.CampaignSending || c.Counts.Recipients != batch {
		t.Fatalf("the send answered %s with %d recipients; want sending with its first batch of %d", c.Status, c.Counts.Recipients, batch)
	}
	// Nobody holds the rest: a worker takes it at its next poll.
	now := time.Now()
	if got, _, ok, err := o.db.ClaimEnqueue(t.Context(), now, now); err != nil || !ok || got.ID != c.ID {
		t.Fatalf("ClaimEnqueue after the send = %s, %v, %v; want the campaign free to go on", got.ID, ok, err)
	}
	relay := smtptest.New(t)
	o.run(t, relay, campaign.WorkerConfig{})
	done := o.waitSent(t, o.account, c)
	if done.Counts.Recipients != leads || done.Counts.Sent != leads {
		t.Fatalf("counts %+v; want %d sent", done.Counts, leads)
	}
	got := smtptest.Recipients(relay.Messages())
	if len(got) != leads || slices.ContainsFunc(slices.Collect(maps.Values(got)), func(n int) bool { return n != 1 }) {
		t.Fatalf("the relay got %v; want each of %d leads once", got, leads)
	}
}

// A finished campaign's message bodies are dropped once the retention
// period has passed; its statistics and the messages' metadata stay.
func TestWorkerDropsBodiesAfterRetention(t *testing.T) {
	o := newOutbox(t, 3)
	relay := smtptest.New(t)
	_, stop := o.start(t, relay, campaign.WorkerConfig{})
	c := o.waitSent(t, o.account, o.send(t, o.account, o.tmpl))
	stop()
	page, err := o.db.ListMessages(t.Context(), o.account.ID, c.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("messages %+v, %v", page, err)
	}
	if m, _ := o.db.GetMessage(t.Context(), o.account.ID, c.ID, page.Items[0].ID); m.Merge == nil {
		t.Fatal("a sent message has no merge values before the retention period")
	}
	if m, err := o.svc.Message(t.Context(), o.account.ID, c.ID, page.Items[0].ID); err != nil || m.HTML == "" {
		t.Fatalf("a sent message reads without a body before the retention period: %+v, %v", m, err)
	}
	o.run(t, relay, campaign.WorkerConfig{Retention: time.Nanosecond})
	// A guard against a worker that never compacts, not a timing assertion.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		m, err := o.db.GetMessage(t.Context(), o.account.ID, c.ID, page.Items[2].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.HTML == "" && m.Text == "" && m.Merge == nil {
			if m.Status != axiom.MessageSent || m.OpenToken == "" || m.To == "" {
				t.Fatalf("the compacted message lost more than its body: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bodies are still there 30 s after the retention period")
		}
	}
	if st, err := o.svc.Stats(t.Context(), o.account.ID, c.ID); err != nil || st.Sent != 3 {
		t.Fatalf("stats after compaction: %+v, %v", st, err)
	}
}

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

package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// Two servers on one database: of their concurrent sends of a due campaign
// one wins; the winner dies after its first batch, and the other resumes
// the enqueueing where it stopped; each message is then delivered by one
// of them, once.
func TestTwoServersShareTheOutbox(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	db1, db2 := open(t, u), open(t, u)
	defer db1.Close()
	defer db2.Close()
	servers := []*DB{db1, db2}
	ctx := t.Context()
	acc := newAccount(t, db1)
	const n = 60
	for i := range n {
		l := axiom.NewLead(acc.ID, axiom.Lead{Name: fmt.Sprint("Lead ", i), Email: fmt.Sprintf("lead%02d@example.com", i)}, time.Now())
		if err := db1.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := axiom.NewTemplate(acc.ID, axiom.Template{Name: "News", Subject: "Hi", Content: "<p>Hi</p>"}, time.Now())
	if err := db1.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	at := axiom.StoreTime(time.Now().Add(-time.Second))
	c := axiom.NewCampaign(acc.ID, axiom.Campaign{Name: "Shared", Template: tmpl.Slug, ScheduledAt: &at}, time.Now())
	if err := db1.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}

	// Both find it due, then send it at once.
	const hold = time.Minute
	now := axiom.StoreTime(time.Now())
	for _, db := range servers {
		if due, err := db.DueCampaigns(ctx, now, 10); err != nil || len(due) != 1 || due[0].ID != c.ID {
			t.Fatalf("DueCampaigns = %+v, %v; want the campaign", due, err)
		}
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		started = make([]bool, len(servers))
	)
	for i, db := range servers {
		wg.Go(func() {
			<-start
			_, err := db.ChangeCampaign(ctx, acc.ID, c.ID, axiom.OpSend,
				axiom.CampaignChange{StartedAt: &now, UpdatedAt: now, EnqueueUntil: new(now.Add(hold))})
			started[i] = err == nil
		})
	}
	close(start)
	wg.Wait()
	if started[0] == started[1] {
		t.Fatalf("sends by each server succeeded: %v; want exactly one", started)
	}

	// enqueue queues the audience after cursor in batches of 7, stopping
	// after batches if it is not 0.
	enqueue := func(db *DB, cursor string, batches int) {
		for b := 0; batches == 0 || b < batches; b++ {
			leads, err := db.AudienceLeads(ctx, acc.ID, cursor, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(leads) == 0 {
				break
			}
			var ms []axiom.Message
			for _, l := range leads {
				ms = append(ms, axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, time.Now()), LeadID: l.ID, To: l.Email,
					Subject: "Hi", HTML: "<p>Hi</p>", Text: "Hi", OpenToken: rand.Text(), UnsubscribeToken: rand.Text(),
					CreatedAt: axiom.StoreTime(time.Now())})
			}
			cursor = leads[len(leads)-1].ID
			if err := db.EnqueueMessages(ctx, c.ID, ms, cursor, now.Add(hold)); err != nil {
				t.Fatal(err)
			}
		}
		if batches == 0 {
			if _, err := db.FinishEnqueue(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	winner, other := db1, db2
	if started[1] {
		winner, other = db2, db1
	}
	enqueue(winner, "", 1)
	// The winner died: once its hold has passed, the other resumes.
	later := now.Add(2 * hold)
	resumed, cursor, ok, err := other.ClaimEnqueue(ctx, later, later.Add(hold))
	if err != nil || !ok || resumed.ID != c.ID || resumed.Counts.Recipients != 7 {
		t.Fatalf("ClaimEnqueue = %+v, %q, %v, %v; want the campaign, 7 queued", resumed, cursor, ok, err)
	}
	enqueue(other, cursor, 0)

	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		by      = map[int]int{}
	)
	wctx, cancel := context.WithCancel(ctx)
	for i, db := range servers {
		for j := range 3 {
			worker := fmt.Sprintf("wrk_%d%d", i, j)
			wg.Go(func() {
				for wctx.Err() == nil {
					ms, err := db.ClaimMessages(wctx, worker, time.Now(), time.Minute, 3)
					if err != nil {
						if wctx.Err() == nil {
							t.Errorf("ClaimMessages: %v", err)
						}
						return
					}
					if len(ms) == 0 {
						time.Sleep(5 * time.Millisecond)
						continue
					}
					for _, m := range ms {
						mu.Lock()
						claimed[m.ID]++
						by[i]++
						mu.Unlock()
						if err := db.CompleteMessage(wctx, worker, m.ID, axiom.Outcome{Status: axiom.MessageSent, At: time.Now()}); err != nil && wctx.Err() == nil {
							t.Errorf("CompleteMessage: %v", err)
						}
					}
				}
			})
		}
	}
	// The sweep the workers run closes a campaign whose last two messages
	// were completed at once by the two servers, each of which still saw
	// the other's queued.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := db1.FinishCampaigns(ctx, time.Now()); err != nil {
			t.Error(err)
		}
		got, err := db2.GetCampaign(ctx, acc.ID, c.ID)
		if err != nil {
			t.Error(err)
			break
		}
		if got.Status == axiom.CampaignSent {
			if got.Counts != (axiom.CampaignCounts{Recipients: n, Sent: n}) {
				t.Errorf("counts %+v", got.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("campaign %s, counts %+v after 60s", got.Status, got.Counts)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("%d messages claimed; want %d", len(claimed), n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Errorf("message %s claimed %d times", id, k)
		}
	}
	t.Logf("messages claimed by each server: %v", by)
}

package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/campaign"
	"github.com/axiomkit/axiom/server/campaign/smtptest"
	"github.com/axiomkit/axiom/server/store"
)

// Two servers on one database: the scheduled campaign is started by one of
// them, and each message is delivered by one of them, once.
func TestTwoServersShareTheOutbox(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	db1, db2 := open(t, u), open(t, u)
	defer db1.Close()
	defer db2.Close()
	ctx := t.Context()
	acc, err := db1.CreateAccount(ctx, store.PlanEnterprise)
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := range n {
		if _, err := db1.CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: fmt.Sprint("Lead ", i),
			Email: fmt.Sprintf("lead%02d@example.com", i), Type: "lead", Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	tmpl, err := db1.CreateTemplate(ctx, store.Template{AccountID: acc.ID, Slug: "news-0000abcd", Name: "News", Subject: "Hi {{name}}", Content: "<p>Hi {{name}}</p>"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(300 * time.Millisecond)
	c, err := db1.CreateCampaign(ctx, store.Campaign{AccountID: acc.ID, Name: "Shared", Template: tmpl.Slug, ScheduledAt: &at})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	byServer := map[string]int{}
	relay := smtptest.New(t)
	cfg, err := campaign.ParseSMTPURL(relay.URL("starttls=none"))
	if err != nil {
		t.Fatal(err)
	}
	composer, err := campaign.NewComposer("http://127.0.0.1:9/v1")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, db := range map[string]*DB{"one": db1, "two": db2} {
		sender, err := campaign.NewSMTPSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		w, err := campaign.NewWorker(campaign.WorkerConfig{Store: db, Composer: composer, Concurrency: 3, Poll: 10 * time.Millisecond,
			Sender: countingSender{sender, func() { mu.Lock(); byServer[name]++; mu.Unlock() }}})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { w.Run(wctx) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := db2.GetCampaign(ctx, acc.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == store.CampaignSent {
			if got.Counts != (store.CampaignCounts{Recipients: n, Sent: n}) {
				t.Errorf("counts %+v", got.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s, counts %+v after 60s", got.Status, got.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	got := relay.Messages()
	per := smtptest.Recipients(got)
	for i := range n {
		if to := fmt.Sprintf("lead%02d@example.com", i); per[to] != 1 {
			t.Errorf("%s received %d messages; want 1", to, per[to])
		}
	}
	if len(got) != n {
		t.Fatalf("%d deliveries; want %d", len(got), n)
	}
	t.Logf("messages sent by each server: %v", byServer)
}

// countingSender counts the messages each server hands to the relay.
type countingSender struct {
	campaign.Sender
	sent func()
}

func (s countingSender) Open(ctx context.Context) (campaign.Conn, error) {
	c, err := s.Sender.Open(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{c, s.sent}, nil
}

type countingConn struct {
	campaign.Conn
	sent func()
}

func (c countingConn) Send(m campaign.Outgoing) error {
	err := c.Conn.Send(m)
	if err == nil {
		c.sent()
	}
	return err
}

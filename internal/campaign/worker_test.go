package campaign_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/internal/store/sqlite"
)

// outbox is a database with n leads of one account, a template, and the
// campaign service over it.
type outbox struct {
	db      *sqlite.DB
	dir     string // the database's directory
	svc     *campaign.Service
	account axiom.Account
	tmpl    axiom.Template
}

func newOutbox(t *testing.T, n int) *outbox {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "axiom.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o := &outbox{db: db, dir: dir, account: axiom.NewAccount(axiom.PlanEnterprise, time.Now())}
	if err := db.CreateAccount(ctx, o.account); err != nil {
		t.Fatal(err)
	}
	o.leads(t, o.account, n)
	o.tmpl = axiom.NewTemplate(o.account.ID, axiom.Template{Name: "News", Subject: "Hi {{name}}", Content: "<p>Hi {{name}}</p>"}, time.Now())
	if err := db.CreateTemplate(ctx, o.tmpl); err != nil {
		t.Fatal(err)
	}
	if o.svc, err = campaign.NewService(campaign.Config{Store: db, PublicURL: "https://mail.example.test/v1"}); err != nil {
		t.Fatal(err)
	}
	return o
}

// leads gives account a n leads, lead000@example.com on.
func (o *outbox) leads(t *testing.T, a axiom.Account, n int) {
	t.Helper()
	for i := range n {
		l := axiom.NewLead(a.ID, axiom.Lead{Name: fmt.Sprint("Lead ", i), Email: fmt.Sprintf("lead%03d@example.com", i)}, time.Now())
		if err := o.db.CreateLead(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
}

// send creates and sends a campaign of account a to every lead.
func (o *outbox) send(t *testing.T, a axiom.Account, tmpl axiom.Template) axiom.Campaign {
	t.Helper()
	c, err := o.svc.Create(t.Context(), a.ID, axiom.Campaign{Name: "C", Template: tmpl.Slug})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = o.svc.Send(t.Context(), a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs a worker of cfg on the outbox until the test ends.
func (o *outbox) run(t *testing.T, relay *smtptest.Server, cfg campaign.WorkerConfig) *campaign.Worker {
	t.Helper()
	w, stop := o.start(t, relay, cfg)
	t.Cleanup(stop)
	return w
}

// start runs a worker of cfg on the outbox, delivering to relay, until
// stop is called, which waits for it to return.
func (o *outbox) start(t *testing.T, relay *smtptest.Server, cfg campaign.WorkerConfig) (w *campaign.Worker, stop func()) {
	t.Helper()
	sc, err := campaign.ParseSMTPURL(relay.URL("starttls=none"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sender, err = campaign.NewSMTPSender(sc); err != nil {
		t.Fatal(err)
	}
	cfg.Service, cfg.Outbox = o.svc, o.db
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	if w, err = campaign.NewWorker(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return w, func() {
		cancel()
		<-done
	}
}

// waitSent waits until campaign c of account a is sent.
func (o *outbox) waitSent(t *testing.T, a axiom.Account, c axiom.Campaign) axiom.Campaign {
	t.Helper()
	// A guard against a worker that never sends, not a timing assertion.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := o.svc.Get(t.Context(), a.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == axiom.CampaignSent {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s is %s, counts %+v, after 60s", c.ID, got.Status, got.Counts)
		}
	}
}

// A worker's claims last as long as it lives: a delivery that outlasts
// many claim times is never taken by another worker, while the messages
// no one holds are shared.
func TestLiveClaimsAreNeverTaken(t *testing.T) {
	const n = 12
	o := newOutbox(t, n)
	var (
		mu   sync.Mutex
		slow = map[string]bool{"lead000@example.com": true, "lead005@example.com": true}
	)
	relay := smtptest.New(t, smtptest.WithData(func(_ string, to []string) error {
		mu.Lock()
		s := slow[to[0]]
		mu.Unlock()
		if s {
			time.Sleep(time.Second) // 4 claim times of the workers below
		}
		return nil
	}))
	c := o.send(t, o.account, o.tmpl)
	cfg := campaign.WorkerConfig{Heartbeat: 50 * time.Millisecond, Concurrency: 2}
	w1, w2 := o.run(t, relay, cfg), o.run(t, relay, cfg)
	if w1.ClaimTTL() != 250*time.Millisecond || w1.ID() == w2.ID() {
		t.Fatalf("workers %s and %s, claims of %s", w1.ID(), w2.ID(), w1.ClaimTTL())
	}
	done := o.waitSent(t, o.account, c)
	if done.Counts != (axiom.CampaignCounts{Recipients: n, Sent: n}) {
		t.Fatalf("counts %+v", done.Counts)
	}
	got := smtptest.Recipients(relay.Messages())
	t.Logf("relay got %d: %v", len(relay.Messages()), got)
	for i := range n {
		if to := fmt.Sprintf("lead%03d@example.com", i); got[to] != 1 {
			t.Errorf("%s received %d messages; want 1", to, got[to])
		}
	}
}

// A worker paces each account to its send rate: past a second's burst,
// one message every 1/rate; another account is paced on its own.
func TestSendRatePacesEachAccount(t *testing.T) {
	const n, rate = 30, 20.0
	o := newOutbox(t, n)
	other := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := o.db.CreateAccount(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	o.leads(t, other, n)
	otherTmpl := axiom.NewTemplate(other.ID, axiom.Template{Name: "News", Subject: "Hi", Content: "<p>Hi</p>"}, time.Now())
	if err := o.db.CreateTemplate(t.Context(), otherTmpl); err != nil {
		t.Fatal(err)
	}
	relay := smtptest.New(t)
	c1, c2 := o.send(t, o.account, o.tmpl), o.send(t, other, otherTmpl)
	o.run(t, relay, campaign.WorkerConfig{SendRate: rate, Concurrency: 4})
	o.waitSent(t, o.account, c1)
	o.waitSent(t, other, c2)

	ms := relay.Messages()
	if len(ms) != 2*n {
		t.Fatalf("the relay received %d messages; want %d", len(ms), 2*n)
	}
	// Each account's deliveries: at most a burst (rate) at once, then one
	// per 1/rate. A lower bound on elapsed time holds however slow the
	// machine is.
	byAccount := map[string][]time.Time{}
	for _, m := range ms {
		msg, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		account := o.account.ID // its template names the lead; the other's does not
		if msg.Header.Get("Subject") == "Hi" {
			account = other.ID
		}
		byAccount[account] = append(byAccount[account], m.At)
	}
	if len(byAccount) != 2 {
		t.Fatalf("messages of %d accounts; want 2", len(byAccount))
	}
	burst := campaign.SendLimit(rate).Burst
	for account, at := range byAccount {
		slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
		min := time.Duration(float64(len(at)-burst) / rate * float64(time.Second))
		// Messages are counted when sent and accepted a little later: allow
		// one interval of slack on the lower bound.
		if span := at[len(at)-1].Sub(at[0]); span < min-time.Duration(float64(time.Second)/rate) {
			t.Errorf("account %s: %d messages in %s; at %v a second with a burst of %d they take at least %s",
				account, len(at), span, rate, burst, min)
		}
	}
}

// After the relay refuses for now (4xx), every delivery pauses, longer at
// each refusal in a row; a delivery that succeeds ends the pause.
func TestRelayRefusalsBackOff(t *testing.T) {
	const n, refusals = 4, 3
	o := newOutbox(t, n)
	var (
		mu    sync.Mutex
		tries []time.Time
	)
	relay := smtptest.New(t, smtptest.WithRcpt(func(string) error {
		mu.Lock()
		defer mu.Unlock()
		tries = append(tries, time.Now())
		if len(tries) <= refusals {
			return smtptest.Reply(421, "4.7.0 Too many messages, slow down")
		}
		return nil
	}))
	const base = 100 * time.Millisecond
	c := o.send(t, o.account, o.tmpl)
	o.run(t, relay, campaign.WorkerConfig{Concurrency: 1, RelayBackoff: base, RetryDelay: time.Millisecond})
	o.waitSent(t, o.account, c)
	mu.Lock()
	defer mu.Unlock()
	if len(tries) != n+refusals {
		t.Fatalf("%d recipients tried; want %d", len(tries), n+refusals)
	}
	// The pause after the k-th refusal in a row is base << (k-1): lower
	// bounds, which hold however slow the machine is.
	for k := 1; k <= refusals; k++ {
		if gap, want := tries[k].Sub(tries[k-1]), base<<(k-1); gap < want {
			t.Errorf("the try after refusal %d came %s later; want at least %s", k, gap, want)
		}
	}
	if got := smtptest.Recipients(relay.Messages()); len(got) != n {
		t.Errorf("the relay accepted %v; want each of %d once", got, n)
	}
}

// A worker that stops gives back the messages it claimed and had not
// started, waiting for their turn: another worker takes them at once, not
// when their claims run out.
func TestStoppedWorkerGivesBackItsClaims(t *testing.T) {
	const n = 6
	o := newOutbox(t, n)
	relay := smtptest.New(t)
	c := o.send(t, o.account, o.tmpl)
	// One message a minute: past the first, every claim waits its turn.
	_, stop := o.start(t, relay, campaign.WorkerConfig{SendRate: 1.0 / 60, Concurrency: 3})
	relay.WaitFor(1, 30*time.Second)
	// claimed lists the messages claimed and not sent, and counts those sent.
	claimed := func() (out []axiom.Message, sent int) {
		page, err := o.svc.Messages(t.Context(), o.account.ID, c.ID, axiom.Query{Page: 1, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			switch {
			case m.Status == axiom.MessageSent:
				sent++
			case m.Status == axiom.MessageQueued && m.Attempts > 0:
				out = append(out, m)
			}
		}
		return out, sent
	}
	// The first message is recorded sent (the relay has it before that) and
	// two more wait their turn. A guard against a worker that never claims,
	// not a timing assertion.
	ready := func() bool { waiting, sent := claimed(); return sent == 1 && len(waiting) >= 2 }
	for deadline := time.Now().Add(30 * time.Second); !ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			waiting, sent := claimed()
			t.Fatalf("%d messages sent and %d waiting for their turn; want 1 and 2", sent, len(waiting))
		}
	}
	stop()
	waiting, _ := claimed()
	if len(waiting) < 2 || len(waiting) > 3 {
		t.Fatalf("%d messages claimed and not sent after the stop; want the 2 or 3 that waited", len(waiting))
	}
	// Free at once: their claims (10s) would still run otherwise.
	free, err := o.db.ClaimMessages(t.Context(), "wrk_next", time.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range waiting {
		if !slices.ContainsFunc(free, func(f axiom.Message) bool { return f.ID == m.ID }) {
			t.Errorf("message %s, given back at the stop, is not free", m.ID)
		}
	}
	if got := len(relay.Messages()); got != 1 {
		t.Errorf("the relay received %d messages; want the 1 the rate allowed", got)
	}
}

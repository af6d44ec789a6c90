package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
)

// A database of before bodies were rendered at send time keeps working
// after migration 0008: a message stored rendered is sent and read as it
// is, and a campaign whose audience was still being queued gets its
// template as snapshot and goes on with it.
func TestRenderedMessagesSurviveTheMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db := open(t, path)
	a := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	tmpl := axiom.NewTemplate(a.ID, axiom.Template{Name: "News", Subject: "Hi {{name}}", Content: "<p>New {{name}}</p>"}, time.Now())
	if err := db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	var leads []axiom.Lead
	for _, name := range []string{"Old One", "Later Two"} {
		l := axiom.NewLead(a.ID, axiom.Lead{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"}, time.Now())
		if err := db.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
		leads = append(leads, l)
	}
	c := axiom.NewCampaign(a.ID, axiom.Campaign{Name: "C", Template: tmpl.Slug}, time.Now())
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	at := axiom.StoreTime(time.Now())
	until := at // free for a worker to resume at once
	if _, err := db.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: &until}); err != nil {
		t.Fatal(err)
	}
	// The first lead's message as a server of before stored it: rendered.
	old := axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: a.ID, LeadID: leads[0].ID,
		To: leads[0].Email, ToName: leads[0].Name, Subject: "Hi Old One",
		HTML: "<p>Stored body for Old One</p><img src=\"https://mail.example.test/v1/t/o/OPENTOKEN0000000000000\">",
		Text: "Stored body for Old One", OpenToken: "OPENTOKEN0000000000000", UnsubscribeToken: "UNSUBTOKEN000000000000",
		Status: axiom.MessageQueued, CreatedAt: at}
	if err := db.EnqueueMessages(ctx, c.ID, []axiom.Message{old}, leads[0].ID, until); err != nil {
		t.Fatal(err)
	}
	// Undo 0008.
	for _, q := range []string{"DELETE FROM schema_migrations WHERE version = 8", "DROP TABLE campaign_content",
		"ALTER TABLE campaign_messages DROP COLUMN merge_values"} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path)
	defer db.Close()

	if snap, err := db.CampaignContent(ctx, a.ID, c.ID); err != nil || snap.Content != tmpl.Content {
		t.Fatalf("the sending campaign's snapshot after the migration = %+v, %v; want its template", snap, err)
	}
	svc, err := campaign.NewService(campaign.Config{Store: db, PublicURL: "https://mail.example.test/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := svc.Message(ctx, a.ID, c.ID, old.ID); err != nil || m.HTML != strings.ReplaceAll(old.HTML, old.OpenToken, axiom.Redacted) {
		t.Fatalf("the stored message read after the migration = %q, %v", m.HTML, err)
	}
	relay := smtptest.New(t)
	sc, err := campaign.ParseSMTPURL(relay.URL("starttls=none"))
	if err != nil {
		t.Fatal(err)
	}
	sender, err := campaign.NewSMTPSender(sc)
	if err != nil {
		t.Fatal(err)
	}
	w, err := campaign.NewWorker(campaign.WorkerConfig{Service: svc, Outbox: db, Sender: sender, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { cancel(); <-done }()
	got := relay.WaitFor(2, 30*time.Second) // a guard against a worker that never sends
	if len(got) != 2 {
		t.Fatalf("the relay got %d messages; want the stored one and the one queued after the migration", len(got))
	}
	for _, m := range got {
		body := string(m.Data)
		switch m.To[0] {
		case leads[0].Email:
			if !strings.Contains(body, "Stored body for Old One") || strings.Contains(body, "New ") {
				t.Errorf("the message stored rendered was sent otherwise:\n%s", body)
			}
		case leads[1].Email:
			if !strings.Contains(body, "New Later Two") {
				t.Errorf("the message queued after the migration was not rendered from the snapshot:\n%s", body)
			}
		default:
			t.Errorf("a message to %v", m.To)
		}
	}
}

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

// Mail queued before migration 0009, when each tracked link of each
// message had a token of its own, keeps working after it: its links still
// redirect and count (the clicks counted before with them), the stored
// body hides their tokens, a message still queued is sent with links of the
// new form that lead where its old ones did, and a message whose open
// token changes (erased) no longer answers its old links.
func TestLegacyLinksSurviveTheMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db := open(t, path)
	a := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	urls := []string{"https://acme.example/one", "https://acme.example/two?a=1&b=2"}
	tmpl := axiom.NewTemplate(a.ID, axiom.Template{Name: "News", Subject: "Hi {{name}}",
		Content: `<p>Hi {{name}}</p><a href="` + urls[0] + `">one</a> <a href="https://acme.example/two?a=1&amp;b=2">two</a>`}, time.Now())
	if err := db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	var leads []axiom.Lead
	for _, name := range []string{"Sent Before", "Queued Before"} {
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
	if _, err := db.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: &at}); err != nil {
		t.Fatal(err)
	}
	// The first message stored rendered (as before 0008) holds its links'
	// tokens in its body; the second, rendered at send time, is queued.
	legacy := [][]string{{"LINKTOKEN0A00000000000", "LINKTOKEN0B00000000000"}, {"LINKTOKEN1A00000000000", "LINKTOKEN1B00000000000"}}
	base := "https://mail.example.test/v1"
	sent := axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: a.ID, LeadID: leads[0].ID,
		To: leads[0].Email, ToName: leads[0].Name, Subject: "Hi Sent Before",
		HTML: `<p>Hi Sent Before</p><a href="` + base + "/t/c/" + legacy[0][0] + `">one</a> <a href="` + base + "/t/c/" + legacy[0][1] + `">two</a>`,
		Text: "Hi Sent Before", OpenToken: "OPENTOKEN0000000000000", UnsubscribeToken: "UNSUBTOKEN000000000000",
		Status: axiom.MessageQueued, CreatedAt: at}
	queued := axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: a.ID, LeadID: leads[1].ID,
		To: leads[1].Email, ToName: leads[1].Name, Subject: "Hi Queued Before", Merge: map[string]string{"name": leads[1].Name},
		OpenToken: "OPENTOKEN1111111111111", UnsubscribeToken: "UNSUBTOKEN111111111111", Status: axiom.MessageQueued, CreatedAt: at}
	if err := db.EnqueueMessages(ctx, c.ID, []axiom.Message{sent, queued}, leads[1].ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishEnqueue(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	// Undo 0009: one link row per link of each message, and a click
	// counted by its link's token.
	undo := []string{
		"DELETE FROM schema_migrations WHERE version = 9",
		"DROP TABLE campaign_link_targets",
		"DROP TABLE legacy_message_links",
		`CREATE TABLE campaign_links (token TEXT PRIMARY KEY, message_id TEXT NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
			position INTEGER NOT NULL, url TEXT NOT NULL, UNIQUE (message_id, position)) STRICT, WITHOUT ROWID`,
		"ALTER TABLE campaign_events ADD COLUMN link_token TEXT",
		"ALTER TABLE campaign_events DROP COLUMN link_position",
	}
	for _, q := range undo {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i, m := range []axiom.Message{sent, queued} {
		for j, u := range urls {
			if _, err := db.w.ExecContext(ctx, "INSERT INTO campaign_links (token, message_id, position, url) VALUES (?, ?, ?, ?)",
				legacy[i][j], m.ID, j, u); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.w.ExecContext(ctx, "INSERT INTO campaign_events (campaign_id, message_id, kind, link_token, at) VALUES (?, ?, 'click', ?, ?)",
		c.ID, sent.ID, legacy[0][0], at.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path)
	defer db.Close()

	// The campaign's links, from its messages rendered at send time.
	if got, err := db.CampaignLinks(ctx, a.ID, c.ID); err != nil || strings.Join(got, " ") != strings.Join(urls, " ") {
		t.Fatalf("the campaign's links after the migration = %q, %v; want %q", got, err, urls)
	}
	// The links of mail sent before redirect and count; the click counted
	// before counts towards its link's cap.
	for j, u := range urls {
		if got, err := db.LegacyClickTarget(ctx, legacy[0][j]); err != nil || got != u {
			t.Fatalf("LegacyClickTarget(%d) = %q, %v; want %q", j, got, err, u)
		}
	}
	for range axiom.MaxLinkHits + 2 {
		if got, err := db.RecordLegacyClick(ctx, legacy[0][0], time.Now()); err != nil || got != urls[0] {
			t.Fatalf("RecordLegacyClick = %q, %v; want %q", got, err, urls[0])
		}
	}
	if got, err := db.RecordLegacyClick(ctx, legacy[0][1], time.Now()); err != nil || got != urls[1] {
		t.Fatalf("RecordLegacyClick of the second link = %q, %v", got, err)
	}
	st, err := db.CampaignStats(ctx, a.ID, c.ID)
	if err != nil || st.Clicks != axiom.MaxLinkHits+1 || st.UniqueClicks != 1 {
		t.Fatalf("stats = %+v, %v; want %d clicks (the first link's cap, the old click among them, and the second link's) of 1 message",
			st, err, axiom.MaxLinkHits+1)
	}
	if _, err := db.w.ExecContext(ctx, "SELECT link_token FROM campaign_events"); err == nil {
		t.Error("campaign_events still has link_token: an event records the link's position")
	}

	svc, err := campaign.NewService(campaign.Config{Store: db, PublicURL: base})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Message(ctx, a.ID, c.ID, sent.ID)
	if err != nil || strings.Contains(m.HTML, "LINKTOKEN") || strings.Count(m.HTML, "/t/c/"+axiom.Redacted+`"`) != 2 {
		t.Fatalf("the message stored rendered, read after the migration = %q, %v; want its links' tokens redacted", m.HTML, err)
	}

	// The message still queued goes out with links of the new form.
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
	var body string
	for _, r := range got {
		if r.To[0] == queued.To {
			body = strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(r.Data)) // quoted-printable
		}
	}
	for j, u := range urls {
		link := base + "/t/c/" + queued.OpenToken + "/" + string(rune('0'+j))
		if !strings.Contains(body, link) {
			t.Errorf("the message queued before the migration lacks %s:\n%s", link, body)
		}
		if got, err := db.RecordClick(ctx, queued.OpenToken, j, time.Now()); err != nil || got != u {
			t.Errorf("RecordClick(%d) of the message queued before = %q, %v; want %q", j, got, err, u)
		}
	}

	// A message whose open token changed answers none of its old links.
	if _, err := db.w.ExecContext(ctx, "UPDATE campaign_messages SET open_token = 'ROTATEDTOKEN0000000000' WHERE id = ?", sent.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordLegacyClick(ctx, legacy[0][0], time.Now()); axiom.ErrorCodeOf(err) != axiom.CodeNotFound {
		t.Errorf("RecordLegacyClick after the message's open token changed = %v; want not found", err)
	}
	if _, err := db.LegacyClickTarget(ctx, legacy[0][1]); axiom.ErrorCodeOf(err) != axiom.CodeNotFound {
		t.Errorf("LegacyClickTarget after the message's open token changed = %v; want not found", err)
	}
}

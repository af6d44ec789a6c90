package postgres

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
)

// Mail queued before migration 0008, when each tracked link of each
// message had a token of its own, keeps working after it: the links
// redirect and count, with the click counted before, the campaign gets the
// links of its messages rendered at send time, and a message whose open
// token changes (erased) answers none of its old links.
func TestLegacyLinksSurviveTheMigration(t *testing.T) {
	ctx := t.Context()
	u := freshSchema(t, baseURL(t))
	db := open(t, u)
	acc := newAccount(t, db)
	tmpl := axiom.NewTemplate(acc.ID, axiom.Template{Name: "News", Subject: "Hi", Content: "<p>Hi</p>"}, time.Now())
	if err := db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	l := axiom.NewLead(acc.ID, axiom.Lead{Name: "Old", Email: "old@example.com"}, time.Now())
	if err := db.CreateLead(ctx, l); err != nil {
		t.Fatal(err)
	}
	c := axiom.NewCampaign(acc.ID, axiom.Campaign{Name: "C", Template: tmpl.Slug}, time.Now())
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	at := axiom.StoreTime(time.Now())
	if _, err := db.ChangeCampaign(ctx, acc.ID, c.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: &at}); err != nil {
		t.Fatal(err)
	}
	m := axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: acc.ID, LeadID: l.ID, To: l.Email,
		Subject: "Hi", Merge: map[string]string{}, OpenToken: "OPENTOKEN0000000000000", UnsubscribeToken: "UNSUBTOKEN000000000000",
		Status: axiom.MessageQueued, CreatedAt: at}
	if err := db.EnqueueMessages(ctx, c.ID, []axiom.Message{m}, l.ID, at); err != nil {
		t.Fatal(err)
	}
	urls := []string{"https://acme.example/one", "https://acme.example/two"}
	tokens := []string{"LINKTOKEN0A00000000000", "LINKTOKEN0B00000000000"}
	for _, q := range []string{
		"DELETE FROM schema_migrations WHERE version = 8",
		"DROP TABLE campaign_link_targets",
		"DROP TABLE legacy_message_links",
		`CREATE TABLE campaign_links (token text COLLATE "C" PRIMARY KEY,
			message_id text COLLATE "C" NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
			position integer NOT NULL, url text NOT NULL, UNIQUE (message_id, position))`,
		"ALTER TABLE campaign_events ADD COLUMN link_token text",
		"ALTER TABLE campaign_events DROP COLUMN link_position",
		"INSERT INTO campaign_links VALUES ('" + tokens[0] + "', '" + m.ID + "', 0, '" + urls[0] + "'), ('" + tokens[1] + "', '" + m.ID + "', 1, '" + urls[1] + "')",
		"INSERT INTO campaign_events (campaign_id, message_id, kind, link_token, at) VALUES ('" + c.ID + "', '" + m.ID + "', 'click', '" + tokens[0] + "', now())",
	} {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	db = open(t, u)
	defer db.Close()

	if got, err := db.CampaignLinks(ctx, acc.ID, c.ID); err != nil || !slices.Equal(got, urls) {
		t.Fatalf("the campaign's links after the migration = %q, %v; want %q", got, err, urls)
	}
	for range axiom.MaxLinkHits + 2 {
		if got, err := db.RecordLegacyClick(ctx, tokens[0], time.Now()); err != nil || got != urls[0] {
			t.Fatalf("RecordLegacyClick = %q, %v; want %q", got, err, urls[0])
		}
	}
	if got, err := db.RecordClick(ctx, m.OpenToken, 1, time.Now()); err != nil || got != urls[1] {
		t.Fatalf("RecordClick = %q, %v; want %q", got, err, urls[1])
	}
	if st, err := db.CampaignStats(ctx, acc.ID, c.ID); err != nil || st.Clicks != axiom.MaxLinkHits+1 || st.UniqueClicks != 1 {
		t.Fatalf("stats = %+v, %v; want %d clicks: the first link's cap, the click of before among them, and the second link's", st, err, axiom.MaxLinkHits+1)
	}
	if got, err := db.GetMessage(ctx, acc.ID, c.ID, m.ID); err != nil || !slices.Equal(got.LegacyLinkTokens, tokens) {
		t.Fatalf("GetMessage = %+v, %v; want the tokens of its links of before, to redact", got, err)
	}
	if _, err := db.sql.ExecContext(ctx, "UPDATE campaign_messages SET open_token = 'ROTATEDTOKEN0000000000' WHERE id = $1", m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LegacyClickTarget(ctx, tokens[1]); axiom.ErrorCodeOf(err) != axiom.CodeNotFound {
		t.Errorf("LegacyClickTarget after the message's open token changed = %v; want not found", err)
	}
}

// One send of a template of N tracked links to M leads stores N link rows
// for the campaign, not N × M.
func TestLinkRowsPerTemplate(t *testing.T) {
	ctx := t.Context()
	db := open(t, freshSchema(t, baseURL(t)))
	defer db.Close()
	acc := newAccount(t, db)
	const links, leads = 40, 15
	var content strings.Builder
	for i := range links {
		fmt.Fprintf(&content, `<p><a href="https://acme.example/listing/%d">%d</a></p>`, i, i)
	}
	tmpl := axiom.NewTemplate(acc.ID, axiom.Template{Name: "Links", Subject: "Hi", Content: content.String()}, time.Now())
	if err := db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	for i := range leads {
		if err := db.CreateLead(ctx, axiom.NewLead(acc.ID, axiom.Lead{Name: "L", Email: fmt.Sprintf("l%d@example.com", i)}, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := campaign.NewService(campaign.Config{Store: db, PublicURL: "https://mail.example.test/v1", Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Create(ctx, acc.ID, axiom.Campaign{Name: "C", Template: tmpl.Slug})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Send(ctx, acc.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	for more := true; more; {
		if more, err = svc.ResumeEnqueue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var messages, rows, legacy int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM campaign_messages WHERE campaign_id = $1", c.ID).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM campaign_link_targets WHERE campaign_id = $1", c.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM legacy_message_links").Scan(&legacy); err != nil {
		t.Fatal(err)
	}
	if messages != leads || rows != links || legacy != 0 {
		t.Fatalf("%d messages, %d link rows, %d legacy; want %d, the template's %d once (not %d), none", messages, rows, legacy, leads, links, links*leads)
	}
}

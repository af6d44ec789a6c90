package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// Raw runs statements written with $N placeholders on a store's database
// as they are, for the tests that put a database back as an older version
// of the store left it.
type Raw interface {
	Exec(ctx context.Context, q string, args ...any) error
	Count(ctx context.Context, q string, args ...any) (int, error)
}

// Opener opens one database, migrating it, with raw access to it.
type Opener func(t *testing.T) (Store, Raw)

// ErasureMigration checks the migration that brought erasure on a
// database of before: it keys every suppression entry by its hash (still
// found by its address) and erases what a lead deleted then left behind —
// its message (gone from the listing, its tokens and links dead) and the
// suppression entry of its address — while a lead still there keeps its
// message and its entry whole. undo gives the statements that return the
// database to before the migration and delete lead goneID as a server of
// before did.
func ErasureMigration(t *testing.T, open Opener, undo func(goneID string) []string) {
	ctx := t.Context()
	db, raw := open(t)
	a := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	tmpl := axiom.NewTemplate(a.ID, axiom.Template{Name: "News", Subject: "Hi", Content: "<p>Hi</p>"}, time.Now())
	if err := db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	kept := axiom.NewLead(a.ID, axiom.Lead{Name: "Kept", Email: "Kept@example.com"}, time.Now())
	gone := axiom.NewLead(a.ID, axiom.Lead{Name: "Gone Person", Email: "Gone.Person@example.com"}, time.Now())
	for _, l := range []axiom.Lead{kept, gone} {
		if err := db.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	c := axiom.NewCampaign(a.ID, axiom.Campaign{Name: "C", Template: tmpl.Slug}, time.Now())
	if err := db.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	at := axiom.StoreTime(time.Now())
	if _, err := db.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: new(at.Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCampaignLinks(ctx, c.ID, []string{"https://example.com/"}); err != nil {
		t.Fatal(err)
	}
	var ms []axiom.Message
	for _, l := range []axiom.Lead{kept, gone} {
		ms = append(ms, axiom.Message{ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: a.ID, LeadID: l.ID,
			To: l.Email, ToName: l.Name, Subject: "Hi " + l.Name, Merge: map[string]string{"name": l.Name},
			OpenToken: "OPEN" + l.ID, UnsubscribeToken: "UNSUB" + l.ID,
			Status: axiom.MessageQueued, CreatedAt: at})
		sup, _ := axiom.NewSuppression(a.ID, l.Email, axiom.SuppressBounced, "550 <"+l.Email+">", c.ID, at)
		if _, _, err := db.AddSuppression(ctx, sup); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.EnqueueMessages(ctx, c.ID, ms, gone.ID, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Mail sent before links were kept per template has per-message links.
	for _, m := range ms {
		if err := raw.Exec(ctx, "INSERT INTO legacy_message_links (token, message_id, position, url, open_token) VALUES ($1, $2, 0, $3, $4)",
			"LINK"+m.LeadID, m.ID, "https://example.com/", m.OpenToken); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range undo(gone.ID) {
		if err := raw.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, raw = open(t)
	defer db.Close()

	if s, err := db.GetSuppression(ctx, a.ID, "KEPT@example.com"); err != nil || s.Email != kept.Email || s.Key != axiom.SuppressionKey(kept.Email) || s.ErasedAt != nil {
		t.Errorf("the kept lead's entry after the migration = %+v, %v", s, err)
	}
	s, err := db.GetSuppression(ctx, a.ID, gone.Email)
	if err != nil || s.Email != "" || s.Detail != "" || s.ErasedAt == nil || s.Key != axiom.SuppressionKey(gone.Email) {
		t.Errorf("the deleted lead's entry after the migration = %+v, %v; want erased, found by its hash", s, err)
	}
	if r, err := db.Suppressed(ctx, a.ID, []string{axiom.SuppressionKey(gone.Email), axiom.SuppressionKey(kept.Email)}); err != nil || len(r) != 2 {
		t.Errorf("Suppressed after the migration = %v, %v; want both", r, err)
	}
	page, err := db.ListMessages(ctx, a.ID, c.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].LeadID != kept.ID {
		t.Fatalf("messages after the migration = %+v, %v; want the kept lead's", page.Items, err)
	}
	if err := db.CheckOpen(ctx, "OPEN"+kept.ID); err != nil {
		t.Errorf("the kept message's pixel: %v", err)
	}
	if u, err := db.ClickTarget(ctx, "OPEN"+kept.ID, 0); err != nil || u != "https://example.com/" {
		t.Errorf("the kept message's link = %q, %v", u, err)
	}
	if u, err := db.LegacyClickTarget(ctx, "LINK"+kept.ID); err != nil || u != "https://example.com/" {
		t.Errorf("the kept message's link of before = %q, %v", u, err)
	}
	dead := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, axiom.ErrNotFound) {
			t.Errorf("the erased message's %s: %v; want not found", what, err)
		}
	}
	dead("pixel", db.CheckOpen(ctx, "OPEN"+gone.ID))
	_, err = db.ClickTarget(ctx, "OPEN"+gone.ID, 0)
	dead("link", err)
	_, err = db.LegacyClickTarget(ctx, "LINK"+gone.ID)
	dead("link of before", err)
	_, err = db.GetUnsubscription(ctx, "UNSUB"+gone.ID)
	dead("unsubscribe link", err)
	if n, err := raw.Count(ctx, "SELECT count(*) FROM legacy_message_links WHERE token = $1", "LINK"+gone.ID); err != nil || n != 0 {
		t.Errorf("%d legacy link rows of the erased message (%v)", n, err)
	}
	if n, err := raw.Count(ctx, "SELECT count(*) FROM campaign_messages WHERE lower(to_email) LIKE '%gone%' OR lower(to_name) LIKE '%gone%'"+
		" OR lower(subject) LIKE '%gone%' OR lower(merge_values) LIKE '%gone%' OR lead_id = $1", gone.ID); err != nil || n != 0 {
		t.Errorf("%d message rows still name the deleted lead (%v)", n, err)
	}
	if st, err := db.CampaignStats(ctx, a.ID, c.ID); err != nil || st.Pending != 1 || st.Suppressed != 1 {
		t.Errorf("stats after the migration = %+v, %v; want the erased queued message suppressed", st, err)
	}
}

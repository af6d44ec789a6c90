package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// Deleting a lead erases it everywhere, end to end: a campaign mailed it
// through a real relay, it opened, clicked and unsubscribed; once deleted,
// its message is gone from the API, every link of the mail it received
// answers 404, the campaign's figures are unchanged, its suppression entry
// keeps only the hash (and still leaves the address out), and neither the
// database's rows nor the bytes of its file hold its address or name.
func TestDeletingALeadErasesIt(t *testing.T) {
	relay := smtptest.New(t)
	db := filepath.Join(t.TempDir(), "erasure.db")
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none&from=Acme+<news@acme.test>")), servertest.WithDatabase(db))
	a := api{t, srv, srv.Key}
	const address, name = "Zelda.Quixote@example.com", "Zelda Quixote"
	// Created with an Idempotency-Key: its stored answer holds the lead.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/leads/add",
		strings.NewReader(`{"name":"`+name+`","email":"`+address+`","notes":["met at the Quixote open house"]}`))
	req.Header.Set("X-API-Key", srv.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "create-zelda")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %v %v", resp, err)
	}
	var created gen.LeadEnvelope
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	zelda := created.Data
	a.lead("John Roe", "john@example.com", nil, "", nil)
	flat := a.property(listing("Loft", "apartment", "Lisbon", "250000.00", "EUR", 2))
	a.do("PUT", "/properties/"+flat.ID+"/leads/"+zelda.ID, map[string]any{"relation": "interested"}, 201, nil)

	slug := a.template("News for {{name}}", `<p>Hello {{name}}</p><p><a href="https://example.com/offer">See the offer</a></p>`)
	c := a.campaign(map[string]any{"name": "May", "template": slug})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	var mine smtptest.Message
	for _, m := range relay.Messages() {
		if strings.EqualFold(m.To[0], address) {
			mine = m
		}
	}
	msg, err := mine.Parse()
	if err != nil {
		t.Fatalf("zelda's mail: %v", err)
	}
	html := mimeParts(t, msg)["text/html"]
	base := regexp.QuoteMeta(srv.PublicURL)
	pixel := regexp.MustCompile(base + `/t/o/[0-9A-Za-z_-]+`).FindString(html)
	click := regexp.MustCompile(base + `/t/c/[0-9A-Za-z_-]+/[0-9]+`).FindString(html)
	unsub := regexp.MustCompile(base + `/u/[0-9A-Za-z_-]+`).FindString(html)
	if pixel == "" || click == "" || unsub == "" {
		t.Fatalf("links of the mail: pixel %q, click %q, unsubscribe %q in\n%s", pixel, click, unsub, html)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, u := range []string{pixel, click} {
		if resp, err := noFollow.Get(u); err != nil || resp.StatusCode >= 400 {
			t.Fatalf("GET %s before the erasure: %v %v", u, resp, err)
		}
	}
	if resp, body := post(t, unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click")); resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d %s", resp.StatusCode, body)
	}

	// The export, with a read-only key, holds all of it.
	ro := api{t, srv, srv.NewReadOnlyKey(t)}
	var exp gen.LeadExportEnvelope
	ro.do("GET", "/leads/"+zelda.ID+"/export", nil, 200, &exp)
	x := exp.Data
	if x.Lead.ID != zelda.ID || len(x.Properties) != 1 || x.Properties[0].Property.ID != flat.ID || len(x.Messages) != 1 ||
		x.Messages[0].CampaignID != c.ID || x.Messages[0].Message.Status != gen.CampaignMessageStatusSent ||
		x.Messages[0].Message.HTML == nil || !strings.Contains(*x.Messages[0].Message.HTML, "Hello "+name) ||
		len(x.Messages[0].Events) != 2 || !x.Suppression.Suppressed || x.Suppression.Entry == nil ||
		x.Suppression.Entry.Reason != gen.SuppressionReasonUnsubscribed {
		t.Fatalf("export = %+v", x)
	}
	for _, e := range x.Messages[0].Events {
		if want := map[gen.LeadExportEventKind]string{gen.LeadExportEventKindClick: "https://example.com/offer"}[e.Kind]; deref(e.URL, "") != want {
			t.Errorf("exported %s event names link %q; want %q", e.Kind, deref(e.URL, ""), want)
		}
	}
	if raw := ro.do("GET", "/leads/"+zelda.ID+"/export", nil, 200, nil); bytes.Contains(raw, []byte(strings.TrimPrefix(unsub, srv.PublicURL+"/u/"))) ||
		!bytes.Contains(raw, []byte(axiom.Redacted)) {
		t.Errorf("the export shows a token, or no REDACTED:\n%s", raw)
	}
	a.fail("GET", "/leads/cnt_nope/export", nil, 404, gen.ErrorCodeNotFound)

	before := a.stats(c.ID)
	var analyticsBefore json.RawMessage
	period := "/analytics/campaigns?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"
	a.do("GET", period, nil, 200, &analyticsBefore)

	a.do("DELETE", "/leads/"+zelda.ID, nil, 204, nil)

	if after := a.stats(c.ID); after != before {
		t.Errorf("stats after the erasure %+v; want %+v", after, before)
	}
	var analyticsAfter json.RawMessage
	if a.do("GET", period, nil, 200, &analyticsAfter); !bytes.Equal(analyticsBefore, analyticsAfter) {
		t.Errorf("campaign analytics changed:\n%s\n%s", analyticsBefore, analyticsAfter)
	}
	for _, m := range a.messages(c.ID) {
		if m.LeadID == zelda.ID || strings.EqualFold(m.To, address) {
			t.Errorf("the erased lead's message is still listed: %+v", m)
		}
	}
	if n := len(a.messages(c.ID)); n != 1 {
		t.Errorf("%d messages listed; want john's only", n)
	}
	a.fail("GET", "/leads/"+zelda.ID+"/export", nil, 404, gen.ErrorCodeNotFound)
	for _, tc := range []struct{ method, url string }{
		{"GET", pixel}, {"HEAD", pixel}, {"GET", click}, {"HEAD", click}, {"GET", unsub}, {"POST", unsub},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader("List-Unsubscribe=One-Click"))
		if tc.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := noFollow.Do(req)
		if err != nil || resp.StatusCode != 404 {
			t.Errorf("%s %s after the erasure: %v %v; want 404", tc.method, tc.url, resp, err)
		}
	}
	sup, ok := a.suppression(strings.ToUpper(address))
	if !ok || sup.Email != nil || sup.Detail != "" || sup.ErasedAt == nil || sup.EmailSha256 != axiom.SuppressionKey(address) ||
		sup.Reason != gen.SuppressionReasonUnsubscribed {
		t.Errorf("the erased entry: %+v, %v; want its hash and reason only", sup, ok)
	}
	var list gen.SuppressionList
	if raw := a.do("GET", "/suppressions", nil, 200, &list); list.Length != 1 || bytes.Contains(bytes.ToLower(raw), []byte("zelda")) {
		t.Errorf("the suppression list: %s", raw)
	}

	// Behind the API: no row holds the address or the name, and neither
	// does the file once the log is checkpointed into it.
	raw, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, word := range []string{"zelda", "quixote", zelda.ID} {
		if where := rowsHolding(t, raw, word); len(where) > 0 {
			t.Errorf("rows still hold %q: %v", word, where)
		}
	}
	var busy, logged, done int
	if err := raw.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &done); err != nil || busy != 0 {
		t.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
	for _, f := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, word := range []string{strings.ToLower(address), address, "Quixote", "quixote"} {
			if i := bytes.Index(b, []byte(word)); i >= 0 {
				t.Errorf("%s holds %q at byte %d", filepath.Base(f), word, i)
			}
		}
	}

	// Added again, the address is still never mailed.
	a.lead("Z", "zelda.quixote@EXAMPLE.com", nil, "", nil)
	next := a.campaign(map[string]any{"name": "June", "template": slug})
	a.send(next.ID)
	a.waitStatus(next.ID, gen.CampaignStatusSent)
	if got := smtptest.Recipients(relay.Messages()); got["zelda.quixote@example.com"]+got[address] != 1 {
		t.Errorf("the relay received %v; want the erased address mailed once, before", got)
	}
	if st := a.stats(next.ID); st.Suppressed != 1 || st.Sent != 1 {
		t.Errorf("next campaign's stats %+v; want the re-added lead left out as suppressed", st)
	}
}

// rowsHolding names the tables and columns of db whose text holds word,
// case-insensitively.
func rowsHolding(t *testing.T, db *sql.DB, word string) []string {
	t.Helper()
	tables, err := db.Query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	var where []string
	for _, table := range names {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bytes.Contains(bytes.ToLower(v), []byte(strings.ToLower(word))) {
					where = append(where, table+"."+cols[i])
				}
			}
		}
		rows.Close()
	}
	return where
}

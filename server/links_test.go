package server_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// Each tracked link of a message as its recipient got it is the
// message's token and the link's position: every position redirects to
// its own URL (the same URL at two positions too) and counts once per
// message and link; the campaign stores its links once, whatever its
// audience. A link of mail queued before links were per template, a token
// of its own, still redirects and counts.
func TestTrackedLinksByPosition(t *testing.T) {
	relay := smtptest.New(t)
	path := filepath.Join(t.TempDir(), "axiom.db")
	srv := servertest.New(t, servertest.WithDatabase(path), servertest.WithSMTP(relay.URL("starttls=none")))
	a := api{t, srv, srv.Key}
	targets := []string{"https://example.com/p/0", "https://example.com/p/1?a=1&b=2", "https://example.com/p/2", "https://example.com/p/0"}
	var content strings.Builder
	content.WriteString("<p>Hi {{name}}</p>")
	for _, u := range targets {
		fmt.Fprintf(&content, `<p><a href="%s">%s</a></p>`, strings.ReplaceAll(u, "&", "&amp;"), u)
	}
	const leads = 3
	for i := range leads {
		a.lead(fmt.Sprint("Lead ", i), fmt.Sprintf("lead%d@example.com", i), nil, "", nil)
	}
	c := a.campaign(map[string]any{"name": "Links", "template": a.template("Hi", content.String())})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)

	got := relay.WaitFor(leads, 10*time.Second)
	if len(got) != leads {
		t.Fatalf("the relay got %d messages; want %d", len(got), leads)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(srv.PublicURL) + `/t/c/([0-9A-Za-z_-]{22})/([0-9]+)"`)
	var first string // the first message's token
	for _, m := range got {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		body := mimeParts(t, msg)["text/html"]
		open := pixelRE.FindStringSubmatch(body)
		found := link.FindAllStringSubmatch(body, -1)
		if open == nil || len(found) != len(targets) {
			t.Fatalf("%d tracked links (pixel %v) in\n%s; want %d", len(found), open, body, len(targets))
		}
		if first == "" {
			first = open[1]
		}
		for i, f := range found {
			if f[1] != open[1] || f[2] != fmt.Sprint(i) {
				t.Fatalf("tracked link %d is /t/c/%s/%s; want the message's token %s and position %d", i, f[1], f[2], open[1], i)
			}
			// A HEAD answers as the GET does and counts nothing.
			for _, method := range []string{http.MethodHead, http.MethodGet, http.MethodGet} {
				req, _ := http.NewRequest(method, srv.PublicURL+"/t/c/"+f[1]+"/"+f[2], nil)
				resp, err := noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != targets[i] {
					t.Fatalf("%s of link %d: %d to %q; want 302 to %s", method, i, resp.StatusCode, resp.Header.Get("Location"), targets[i])
				}
			}
		}
		for _, bad := range []string{fmt.Sprint(len(targets)), "007", "-0", "1.0", "１"} {
			resp, err := noFollow.Get(srv.PublicURL + "/t/c/" + open[1] + "/" + bad)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("position %q: %d; want 404", bad, resp.StatusCode)
			}
		}
	}
	if st := a.stats(c.ID); st.Clicks != 2*leads*len(targets) || st.UniqueClicks != leads {
		t.Fatalf("stats %+v; want %d clicks (two per link of each message), %d unique", st, 2*leads*len(targets), leads)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, legacy, events int
	if err := db.QueryRow("SELECT count(*) FROM campaign_link_targets WHERE campaign_id = ?", c.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM legacy_message_links").Scan(&legacy); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(DISTINCT message_id || '/' || link_position) FROM campaign_events WHERE kind = 'click'").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if rows != len(targets) || legacy != 0 || events != leads*len(targets) {
		t.Fatalf("%d link rows, %d legacy, clicks of %d links; want the template's %d once (not %d), none, %d",
			rows, legacy, events, len(targets), leads*len(targets), leads*len(targets))
	}

	// A link of before: its own token, its message's open token with it.
	const token = "LEGACYLINKTOKEN0000000"
	if _, err := db.Exec(`INSERT INTO legacy_message_links (token, message_id, position, url, open_token)
		SELECT ?, id, 0, 'https://example.com/before', open_token FROM campaign_messages WHERE open_token = ?`, token, first); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, _ := http.NewRequest(method, srv.PublicURL+"/t/c/"+token, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/before" {
			t.Fatalf("%s of a link of before: %d to %q", method, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if st := a.stats(c.ID); st.Clicks != 2*leads*len(targets)+1 {
		t.Fatalf("stats %+v; want the click of the link of before counted, once", st)
	}
}

package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// listUnsubscribeRE reads a List-Unsubscribe header with its one-click URL
// and the mailto: of the reply address.
var listUnsubscribeRE = regexp.MustCompile(`^<(http[^>]+/u/([0-9A-Za-z_-]{22}))>, <mailto:([^?>]+)\?subject=unsubscribe%20([0-9A-Za-z_-]{22})>$`)

// unsubscribeLinks are the one-click URLs of the messages the relay took,
// by recipient, checked against the headers every message must carry.
func unsubscribeLinks(t *testing.T, ms []smtptest.Message, replyTo string) map[string]string {
	t.Helper()
	links := map[string]string{}
	for _, m := range ms {
		msg, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		h := msg.Header
		got := listUnsubscribeRE.FindStringSubmatch(h.Get("List-Unsubscribe"))
		if got == nil || got[3] != replyTo || got[2] != got[4] {
			t.Fatalf("List-Unsubscribe %q; want the one-click URL and mailto:%s naming its token", h.Get("List-Unsubscribe"), replyTo)
		}
		if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post %q; want List-Unsubscribe=One-Click (RFC 8058)", h.Get("List-Unsubscribe-Post"))
		}
		if h.Get("Reply-To") != "<"+replyTo+">" {
			t.Errorf("Reply-To %q; want <%s>", h.Get("Reply-To"), replyTo)
		}
		links[strings.ToLower(m.To[0])] = got[1]
	}
	return links
}

// post sends body to u as a browser or a mailbox provider does: no key, no cookie.
func post(t *testing.T, u, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	return call(t, http.MethodPost, u, "", contentType, body)
}

// submitForm fills in the first form of an HTML page as a browser would
// and submits it: its method, its action, its hidden fields.
func submitForm(t *testing.T, page []byte) (*http.Response, []byte) {
	t.Helper()
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var method, action string
	fields := url.Values{}
	for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() {
		tok := z.Token()
		attr := func(k string) string {
			for _, a := range tok.Attr {
				if a.Key == k {
					return a.Val
				}
			}
			return ""
		}
		switch {
		case tok.Data == "form" && action == "":
			method, action = strings.ToUpper(attr("method")), attr("action")
		case tok.Data == "input" && attr("name") != "":
			fields.Add(attr("name"), attr("value"))
		}
	}
	if method != http.MethodPost || action == "" {
		t.Fatalf("the page has no form that POSTs: method %q, action %q\n%s", method, action, page)
	}
	return post(t, action, "application/x-www-form-urlencoded", strings.NewReader(fields.Encode()))
}

// suppression is the account's entry of email, and whether it has one.
func (a api) suppression(email string) (gen.Suppression, bool) {
	a.t.Helper()
	resp, body := call(a.t, http.MethodGet, a.srv.URL+"/suppressions/"+url.PathEscape(email), a.key, "", nil)
	if resp.StatusCode == http.StatusNotFound {
		return gen.Suppression{}, false
	}
	var env gen.SuppressionEnvelope
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &env) != nil {
		a.t.Fatalf("GET /suppressions/%s: %d %s", email, resp.StatusCode, body)
	}
	return env.Data, true
}

func (a api) leadStatus(id string) gen.LeadStatus {
	a.t.Helper()
	var env gen.LeadEnvelope
	a.do("GET", "/leads/"+id, nil, 200, &env)
	return env.Data.Status
}

// One-click unsubscribe (RFC 8058) with a real relay: every message
// carries the headers; a GET of the link changes nothing; the provider's
// POST, the page's own form, and a multipart POST unsubscribe; forged,
// altered and malformed requests change nothing; the next campaign leaves
// the unsubscribed out and counts them.
func TestOneClickUnsubscribe(t *testing.T) {
	relay := smtptest.New(t)
	const replyTo = "unsubscribe@acme.test"
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none&from=Acme+<news@acme.test>&reply-to="+replyTo)))
	a := api{t, srv, srv.Key}
	leads := map[string]gen.Lead{}
	for _, name := range []string{"jane", "john", "max", "ann"} {
		leads[name] = a.lead(name, name+"@example.com", nil, "", nil)
	}
	slug := a.template("Hi {{name}}", "<p>Hi {{name}}</p>")
	first := a.campaign(map[string]any{"name": "May newsletter", "template": slug})
	a.send(first.ID)
	a.waitStatus(first.ID, gen.CampaignStatusSent)
	links := unsubscribeLinks(t, relay.Messages(), replyTo)
	if len(links) != 4 {
		t.Fatalf("one-click links for %v; want the 4 recipients", links)
	}

	// A link scanner fetches the URL: the page names the list and the
	// address, offers the button, and changes nothing.
	for range 2 {
		resp, page := call(t, http.MethodGet, links["jane@example.com"], "", "", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(page), "May newsletter") || !strings.Contains(string(page), "jane@example.com") {
			t.Fatalf("GET of the unsubscribe link: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
		}
	}
	if s := a.leadStatus(leads["jane"].ID); s != gen.LeadStatusActive {
		t.Fatalf("after GETs of the link the lead is %s", s)
	}
	if _, ok := a.suppression("jane@example.com"); ok {
		t.Fatal("a GET of the unsubscribe link suppressed the address")
	}

	// What is not a one-click POST changes nothing.
	forged := strings.TrimSuffix(links["jane@example.com"], links["jane@example.com"][strings.LastIndex(links["jane@example.com"], "/")+1:]) +
		strings.Repeat("A", 22)
	last := links["jane@example.com"][len(links["jane@example.com"])-1]
	altered := links["jane@example.com"][:len(links["jane@example.com"])-1] + map[bool]string{true: "B", false: "A"}[last == 'A']
	for _, tc := range []struct {
		what, url, ctype, body string
		status                 int
		code                   gen.ErrorCode
	}{
		{"a forged token", forged, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", 404, gen.ErrorCodeNotFound},
		{"an altered token", altered, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", 404, gen.ErrorCodeNotFound},
		{"no body", links["jane@example.com"], "", "", 400, gen.ErrorCodeInvalidParameter},
		{"another body", links["jane@example.com"], "application/x-www-form-urlencoded", "List-Unsubscribe=Yes", 400, gen.ErrorCodeInvalidParameter},
		{"a JSON body", links["jane@example.com"], "application/json", `{"List-Unsubscribe":"One-Click"}`, 415, gen.ErrorCodeUnsupportedMediaType},
		{"a bad escape", links["jane@example.com"], "application/x-www-form-urlencoded", "List-Unsubscribe=%ZZ", 400, gen.ErrorCodeInvalidParameter},
		{"multipart without a boundary", links["jane@example.com"], "multipart/form-data", "List-Unsubscribe=One-Click", 400, gen.ErrorCodeInvalidParameter},
		{"a truncated multipart body", links["jane@example.com"], "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Cl", 400, gen.ErrorCodeInvalidParameter},
	} {
		resp, body := post(t, tc.url, tc.ctype, strings.NewReader(tc.body))
		wantError(t, resp, body, tc.status, tc.code)
	}
	var list gen.SuppressionList
	if a.do("GET", "/suppressions", nil, 200, &list); list.Length != 0 || a.leadStatus(leads["jane"].ID) != gen.LeadStatusActive {
		t.Fatalf("refused unsubscribes changed something: %+v", list)
	}

	// The mailbox provider's button: a POST of the RFC's body, twice.
	for range 2 {
		resp, body := post(t, links["jane@example.com"], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "unsubscribed") {
			t.Fatalf("one-click POST: %d %s", resp.StatusCode, body)
		}
	}
	// The page's button, as a browser submits it.
	resp, page := call(t, http.MethodGet, links["john@example.com"], "", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET of john's link: %d", resp.StatusCode)
	}
	if resp, body := submitForm(t, page); resp.StatusCode != 200 || !strings.Contains(string(body), "unsubscribed") {
		t.Fatalf("the page's form: %d %s", resp.StatusCode, body)
	}
	// A multipart body, as RFC 8058's example sends it.
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	w.WriteField("List-Unsubscribe", "One-Click")
	w.Close()
	if resp, body := post(t, links["max@example.com"], w.FormDataContentType(), &mp); resp.StatusCode != 200 {
		t.Fatalf("multipart one-click POST: %d %s", resp.StatusCode, body)
	}
	for _, name := range []string{"jane", "john", "max"} {
		sup, ok := a.suppression(name + "@example.com")
		if !ok || sup.Reason != gen.SuppressionReasonUnsubscribed || sup.CampaignID == nil || *sup.CampaignID != first.ID {
			t.Errorf("%s's entry: %+v, %v; want unsubscribed from %s", name, sup, ok, first.ID)
		}
		if s := a.leadStatus(leads[name].ID); s != gen.LeadStatusUnsubscribed {
			t.Errorf("%s is %s after unsubscribing", name, s)
		}
	}
	// Once unsubscribed, the page says so and offers no button.
	if _, page := call(t, http.MethodGet, links["jane@example.com"], "", "", nil); strings.Contains(string(page), "<form") {
		t.Errorf("the page of an address unsubscribed offers the button again:\n%s", page)
	}
	if st := a.stats(first.ID); st.Unsubscribes != 3 || st.Recipients != 4 {
		t.Errorf("first campaign's stats %+v; want 3 unsubscribes of 4", st)
	}

	// The next campaign mails only ann; the three others are left out and counted.
	next := a.campaign(map[string]any{"name": "June newsletter", "template": slug})
	a.send(next.ID)
	a.waitStatus(next.ID, gen.CampaignStatusSent)
	if got := smtptest.Recipients(relay.Messages()); !equalCounts(got, map[string]int{
		"jane@example.com": 1, "john@example.com": 1, "max@example.com": 1, "ann@example.com": 2}) {
		t.Fatalf("the relay received %v; want the unsubscribed left out of the second campaign", got)
	}
	if st := a.stats(next.ID); st.Recipients != 1 || st.Sent != 1 || st.Suppressed != 3 {
		t.Fatalf("second campaign's stats %+v; want 1 recipient, 3 suppressed", st)
	}
}

// A recipient the relay refuses for good (550 at RCPT, 554 at the end of
// DATA) is suppressed as bounced, counted, and left out of the next
// campaign; a temporary refusal suppresses nobody.
func TestBounceSuppressesTheAddress(t *testing.T) {
	later := 0
	relay := smtptest.New(t,
		smtptest.WithRcpt(func(to string) error {
			switch to {
			case "gone@example.com":
				return smtptest.Reply(550, "5.1.1 No such user")
			case "later@example.com":
				if later++; later == 1 {
					return smtptest.Reply(451, "4.3.0 Try again later")
				}
			}
			return nil
		}),
		smtptest.WithData(func(_ string, to []string) error {
			if len(to) == 1 && to[0] == "blocked@example.com" {
				return smtptest.Reply(554, "5.7.1 Message refused")
			}
			return nil
		}))
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none")), servertest.WithCampaignWorker(func(c *campaign.WorkerConfig) {
		c.RetryDelay, c.RelayBackoff, c.Concurrency = 10*time.Millisecond, 10*time.Millisecond, 1 // the hooks above are not guarded
	}))
	a := api{t, srv, srv.Key}
	for _, e := range []string{"ok@example.com", "gone@example.com", "blocked@example.com", "later@example.com"} {
		a.lead(e, e, nil, "", nil)
	}
	slug := a.template("Hi", "<p>Hi</p>")
	first := a.campaign(map[string]any{"name": "First", "template": slug})
	a.send(first.ID)
	done := a.waitStatus(first.ID, gen.CampaignStatusSent)
	if done.Counts != (gen.CampaignCounts{Recipients: 4, Sent: 2, Failed: 2}) {
		t.Fatalf("first campaign's counts %+v", done.Counts)
	}
	if st := a.stats(first.ID); st.Bounces != 2 || st.Failed != 2 || st.Suppressed != 0 {
		t.Fatalf("first campaign's stats %+v; want 2 bounces", st)
	}
	for _, e := range []string{"gone@example.com", "blocked@example.com"} {
		sup, ok := a.suppression(e)
		if !ok || sup.Reason != gen.SuppressionReasonBounced || sup.CampaignID == nil || *sup.CampaignID != first.ID ||
			!strings.Contains(sup.Detail, "5") {
			t.Errorf("%s's entry: %+v, %v; want bounced in %s, with the relay's reply", e, sup, ok, first.ID)
		}
	}
	for _, e := range []string{"ok@example.com", "later@example.com"} {
		if sup, ok := a.suppression(e); ok {
			t.Errorf("%s is suppressed: %+v", e, sup)
		}
	}

	next := a.campaign(map[string]any{"name": "Next", "template": slug})
	a.send(next.ID)
	a.waitStatus(next.ID, gen.CampaignStatusSent)
	for _, m := range a.messages(next.ID) {
		bounced := m.To == "gone@example.com" || m.To == "blocked@example.com"
		if bounced != (m.Status == gen.CampaignMessageStatusSuppressed) || bounced && !strings.Contains(m.Error, "bounced") {
			t.Errorf("second campaign's message %+v", m)
		}
	}
	if st := a.stats(next.ID); st.Recipients != 2 || st.Sent != 2 || st.Suppressed != 2 || st.Bounces != 0 {
		t.Fatalf("second campaign's stats %+v; want 2 sent, 2 suppressed", st)
	}
	// Accepted: each of ok and later twice, the bounced ones never.
	if got := smtptest.Recipients(relay.Messages()); !equalCounts(got, map[string]int{"ok@example.com": 2, "later@example.com": 2}) {
		t.Fatalf("the relay accepted %v", got)
	}
}

// One account's suppression list never affects another's: an address one
// suppressed, or unsubscribed from one, is mailed by the other.
func TestSuppressionIsPerAccount(t *testing.T) {
	relay := smtptest.New(t)
	const replyTo = "unsubscribe@acme.test"
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none&reply-to="+replyTo)))
	a := api{t, srv, srv.Key}
	b := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	var slugs [2]string
	for i, acc := range []api{a, b} {
		acc.lead("Jane", "jane@example.com", nil, "", nil)
		acc.lead("Bob", "bob@example.com", nil, "", nil)
		slugs[i] = acc.template("Hi", "<p>Hi</p>")
	}
	var added gen.SuppressionEnvelope
	a.do("POST", "/suppressions/add", map[string]any{"email": "JANE@example.com", "reason": "manual"}, 201, &added)

	b1 := b.campaign(map[string]any{"name": "B1", "template": slugs[1]})
	b.send(b1.ID)
	b.waitStatus(b1.ID, gen.CampaignStatusSent)
	links := unsubscribeLinks(t, relay.Messages(), replyTo)
	if resp, body := post(t, links["bob@example.com"], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click")); resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %d %s", resp.StatusCode, body)
	}

	a1 := a.campaign(map[string]any{"name": "A1", "template": slugs[0]})
	a.send(a1.ID)
	a.waitStatus(a1.ID, gen.CampaignStatusSent)
	b2 := b.campaign(map[string]any{"name": "B2", "template": slugs[1]})
	b.send(b2.ID)
	b.waitStatus(b2.ID, gen.CampaignStatusSent)

	for _, tc := range []struct {
		acc        api
		id         string
		mailed     string
		suppressed string
	}{{b, b1.ID, "", ""}, {a, a1.ID, "bob@example.com", "jane@example.com"}, {b, b2.ID, "jane@example.com", "bob@example.com"}} {
		for _, m := range tc.acc.messages(tc.id) {
			if (m.To == tc.suppressed) != (m.Status == gen.CampaignMessageStatusSuppressed) {
				t.Errorf("campaign %s: message %+v; want only %q left out", tc.id, m, tc.suppressed)
			}
		}
	}
	if got := smtptest.Recipients(relay.Messages()); !equalCounts(got, map[string]int{"jane@example.com": 2, "bob@example.com": 2}) {
		t.Fatalf("the relay received %v; want jane from B twice, bob from B then A", got)
	}
	for _, tc := range []struct {
		acc   api
		email string
		want  bool
	}{{a, "jane@example.com", true}, {a, "bob@example.com", false}, {b, "jane@example.com", false}, {b, "bob@example.com", true}} {
		if _, ok := tc.acc.suppression(tc.email); ok != tc.want {
			t.Errorf("%s suppressed in account %s: %v, want %v", tc.email, tc.acc.key[:8], ok, tc.want)
		}
	}
	// Neither can remove the other's entry.
	b.fail("DELETE", "/suppressions/jane@example.com", nil, 404, gen.ErrorCodeNotFound)
	if _, ok := a.suppression("jane@example.com"); !ok {
		t.Fatal("another account removed the entry")
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// api calls one server with one key and decodes JSON answers.
type api struct {
	t   *testing.T
	srv *servertest.Server
	key string
}

// do sends a request with a JSON body (nil for none), checks the status
// and decodes the answer into out (if not nil).
func (a api) do(method, path string, body any, status int, out any) []byte {
	a.t.Helper()
	var r io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		r, ct = bytes.NewReader(b), "application/json"
	}
	resp, raw := call(a.t, method, a.srv.URL+path, a.key, ct, r)
	if resp.StatusCode != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return raw
}

// fail sends a request that must fail with status and code, and returns
// the error's message.
func (a api) fail(method, path string, body any, status int, code gen.ErrorCode) string {
	a.t.Helper()
	var r io.Reader
	ct := ""
	if body != nil {
		b, _ := json.Marshal(body)
		r, ct = bytes.NewReader(b), "application/json"
	}
	resp, raw := call(a.t, method, a.srv.URL+path, a.key, ct, r)
	return wantError(a.t, resp, raw, status, code).Message
}

func (a api) lead(name, email string, tags []string, status string, custom map[string]string) gen.Lead {
	a.t.Helper()
	body := map[string]any{"name": name, "email": email, "tags": append([]string{}, tags...), "company": "A&B <Homes>"}
	if custom != nil {
		body["custom_fields"] = custom
	}
	if status != "" {
		body["status"] = status
	}
	var env gen.LeadEnvelope
	a.do("POST", "/leads/add", body, 201, &env)
	return env.Data
}

func (a api) template(subject, content string) string {
	a.t.Helper()
	var env gen.TemplateCreated
	a.do("POST", "/templates/add", map[string]any{"name": "Newsletter", "subject": subject, "content": content}, 201, &env)
	return env.Data.Template
}

func (a api) campaign(body map[string]any) gen.Campaign {
	a.t.Helper()
	var env gen.CampaignEnvelope
	a.do("POST", "/campaigns/add", body, 201, &env)
	return env.Data
}

func (a api) get(id string) gen.Campaign {
	a.t.Helper()
	var env gen.CampaignEnvelope
	a.do("GET", "/campaigns/"+id, nil, 200, &env)
	return env.Data
}

func (a api) send(id string) gen.Campaign {
	a.t.Helper()
	var env gen.CampaignEnvelope
	a.do("POST", "/campaigns/"+id+"/send", nil, 202, &env)
	return env.Data
}

// waitStatus polls the campaign until it has status, within a generous
// deadline.
func (a api) waitStatus(id string, status gen.CampaignStatus) gen.Campaign {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := a.get(id)
		if c.Status == status {
			return c
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("campaign %s is %s, not %s, after 20s", id, c.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a api) messages(id string) []gen.CampaignMessage {
	a.t.Helper()
	var list gen.CampaignMessageList
	a.do("GET", "/campaigns/"+id+"/messages?limit=100", nil, 200, &list)
	return list.Data
}

// message reads one message with its body, as the API shows it.
func (a api) message(campaignID, id string) gen.CampaignMessage {
	a.t.Helper()
	var env gen.CampaignMessageEnvelope
	a.do("GET", "/campaigns/"+campaignID+"/messages/"+id, nil, 200, &env)
	if env.Data.HTML == nil || env.Data.Text == nil {
		a.t.Fatalf("message %s without its body: %+v", id, env.Data)
	}
	return env.Data
}

// liveMessages are a campaign's messages with their bodies and live
// tokens, read behind the API: what the recipients get.
func (a api) liveMessages(campaignID string) []axiom.Message {
	a.t.Helper()
	ctx := context.Background()
	page, err := a.srv.Store.ListMessages(ctx, a.srv.AccountID, campaignID, axiom.Query{Page: 1, Limit: 100})
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]axiom.Message, len(page.Items))
	for i, m := range page.Items {
		if out[i], err = a.srv.Store.GetMessage(ctx, a.srv.AccountID, campaignID, m.ID); err != nil {
			a.t.Fatal(err)
		}
		// The body the recipient gets, rendered as the worker does.
		if out[i], err = a.srv.Campaigns.Body(ctx, out[i]); err != nil {
			a.t.Fatal(err)
		}
	}
	return out
}

// tokenInURL finds the token of every public link of a message.
var tokenInURL = regexp.MustCompile(`(/(?:t/o|t/c|u)/)[0-9A-Za-z_-]{22}`)

// redactTokens is what the API shows of a body the recipient got.
func redactTokens(s string) string { return tokenInURL.ReplaceAllString(s, "${1}REDACTED") }

func (a api) stats(id string) gen.CampaignStats {
	a.t.Helper()
	var env gen.CampaignStatsEnvelope
	a.do("GET", "/campaigns/"+id+"/stats", nil, 200, &env)
	return env.Data
}

const newsletter = `<!doctype html><html><head><title>{{name}}</title><style>p{color:red}</style></head><body>
<p>Hello {{ name }} from {{company}}!</p>
<p>Budget: {{custom.budget}}{{no_such_field}}</p>
<p><a href="https://example.com/offer?x=1&amp;y=2">See the offer</a> or <a href="mailto:agent@example.com">write</a>.</p>
<p><a href="https://example.com/about">https://example.com/about</a></p>
</body></html>`

// mimeParts returns the decoded parts of a multipart/alternative message by
// media type, with LF line ends.
func mimeParts(t *testing.T, m *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[pt] = strings.ReplaceAll(string(b), "\r\n", "\n") // SMTP's line ends

	}
}

func TestCampaignSendsOneRenderedMessagePerRecipient(t *testing.T) {
	relay := smtptest.New(t)
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none&from=Acme+News+<news@acme.test>")))
	a := api{t, srv, srv.Key}

	evil := a.lead("<script>alert(1)</script>", "evil@example.com", []string{"buyer"}, "", map[string]string{"budget": `"><img src=x onerror=alert(1)>`})
	jane := a.lead("Jane Doe", "jane@example.com", []string{"buyer", "vip"}, "", map[string]string{"budget": "$500k"})
	a.lead("Bob Untagged", "bob@example.com", []string{"seller"}, "", nil)
	a.lead("Una Subscribed", "una@example.com", []string{"buyer"}, "unsubscribed", nil)
	inactive := a.lead("Ina Active", "ina@example.com", []string{"buyer"}, "inactive", nil)
	slug := a.template("News for {{first_name}}\r\nBcc: victim@example.com", newsletter)

	c := a.campaign(map[string]any{"name": "May", "template": slug, "audience": map[string]any{"tags": []string{"buyer"}}})
	if c.Status != gen.CampaignStatusDraft || c.Counts.Recipients != 0 || c.StartedAt != nil {
		t.Fatalf("new campaign: %+v", c)
	}
	if s := a.send(c.ID); s.Status != gen.CampaignStatusSending || s.StartedAt == nil || s.Counts.Recipients != 3 {
		t.Fatalf("after send: %+v", s)
	}
	done := a.waitStatus(c.ID, gen.CampaignStatusSent)
	if done.Counts != (gen.CampaignCounts{Recipients: 3, Sent: 3, Failed: 0}) || done.CompletedAt == nil {
		t.Fatalf("sent campaign: %+v", done)
	}

	got := relay.Messages()
	want := map[string]int{evil.Email: 1, jane.Email: 1, inactive.Email: 1}
	if r := smtptest.Recipients(got); len(got) != 3 || !equalCounts(r, want) {
		t.Fatalf("relay received %d messages for %v, want one each for %v", len(got), r, want)
	}
	// The unsubscribed lead of the audience is recorded left out, not sent.
	outbox := a.messages(c.ID)
	if len(outbox) != 4 {
		t.Fatalf("outbox has %d messages, want 3 and the record of the lead left out", len(outbox))
	}
	for _, m := range outbox {
		if (m.To == "una@example.com") != (m.Status == gen.CampaignMessageStatusSuppressed) {
			t.Errorf("outbox entry %+v; want only Una's suppressed", m)
		}
		if m.Status == gen.CampaignMessageStatusSuppressed && (m.Error != "The lead is unsubscribed" || m.SentAt != nil || m.HTML != nil) {
			t.Errorf("the record of the lead left out: %+v", m)
		}
	}
	if st := a.stats(c.ID); st.Recipients != 3 || st.Suppressed != 1 || st.Sent != 3 {
		t.Errorf("stats %+v; want 3 recipients sent, 1 suppressed", st)
	}
	for _, m := range got {
		msg, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		to, _ := mail.ParseAddress(msg.Header.Get("To"))
		from, _ := mail.ParseAddress(msg.Header.Get("From"))
		if from == nil || from.Address != "news@acme.test" || from.Name != "Acme News" || m.From != "news@acme.test" {
			t.Errorf("From %q, envelope %q", msg.Header.Get("From"), m.From)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || strings.ContainsAny(subject, "\r\n") || !strings.HasPrefix(subject, "News for ") {
			t.Errorf("Subject %q (%v)", subject, err)
		}
		if msg.Header.Get("Bcc") != "" {
			t.Errorf("a merge field injected a header: Bcc %q", msg.Header.Get("Bcc"))
		}
		parts := mimeParts(t, msg)
		body, text := parts["text/html"], parts["text/plain"]
		if body == "" || text == "" {
			t.Fatalf("parts %v: want text/plain and text/html", slices.Collect(mapKeys(parts)))
		}
		unsub := regexp.MustCompile(regexp.QuoteMeta(srv.PublicURL) + `/u/[0-9A-Za-z_-]{22}`).FindString(body)
		if unsub == "" || msg.Header.Get("List-Unsubscribe") != "<"+unsub+">" || !strings.Contains(text, unsub) ||
			msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("unsubscribe link %q, List-Unsubscribe %q, List-Unsubscribe-Post %q", unsub,
				msg.Header.Get("List-Unsubscribe"), msg.Header.Get("List-Unsubscribe-Post"))
		}
		if msg.Header.Get("Reply-To") != "" {
			t.Errorf("Reply-To %q without a reply-to address", msg.Header.Get("Reply-To"))
		}
		if !strings.Contains(body, `<img src="`+srv.PublicURL+"/t/o/") {
			t.Errorf("no open pixel in\n%s", body)
		}
		if strings.Contains(body, "https://example.com/offer") || strings.Count(body, srv.PublicURL+"/t/c/") != 2 {
			t.Errorf("links not rewritten for tracking:\n%s", body)
		}
		if !strings.Contains(body, `href="mailto:agent@example.com"`) {
			t.Errorf("mailto link changed:\n%s", body)
		}
		if !strings.Contains(text, "See the offer (https://example.com/offer?x=1&y=2)") || strings.Contains(text, "<p>") {
			t.Errorf("text part:\n%s", text)
		}
		if strings.Contains(body, "{{") || strings.Contains(subject, "{{") {
			t.Errorf("merge field left unrendered:\n%s\n%s", subject, body)
		}
		var sent *gen.CampaignMessage
		for i := range outbox {
			if outbox[i].To == to.Address {
				sent = &outbox[i]
			}
		}
		if sent == nil || sent.HTML != nil || sent.Status != gen.CampaignMessageStatusSent || sent.SentAt == nil {
			t.Errorf("outbox entry for %s does not match what the relay received: %+v", to.Address, sent)
		} else if full := a.message(c.ID, sent.ID); *full.HTML != redactTokens(body) || *full.Text != redactTokens(text) ||
			tokenInURL.MatchString(strings.ReplaceAll(*full.HTML+*full.Text, "/REDACTED", "")) {
			t.Errorf("the message %s as the API shows it is not what the relay received, tokens redacted:\n%s\n%s", sent.ID, *full.HTML, *full.Text)
		} else if id := msg.Header.Get("Message-Id"); id != "<"+sent.ID+"@acme.test>" {
			t.Errorf("Message-Id %q, want one naming %s", id, sent.ID)
		}
		switch to.Address {
		case evil.Email:
			if strings.Contains(body, "<script>alert") || !strings.Contains(body, "Hello &lt;script&gt;alert(1)&lt;/script&gt; from A&amp;B &lt;Homes&gt;!") {
				t.Errorf("the lead's name is not escaped:\n%s", body)
			}
			if strings.Contains(body, "<img src=x") || !strings.Contains(body, "Budget: &#34;&gt;&lt;img src=x onerror=alert(1)&gt;</p>") {
				t.Errorf("the custom field is not escaped:\n%s", body)
			}
			if !strings.Contains(text, "Hello <script>alert(1)</script> from A&B <Homes>!") {
				t.Errorf("text part:\n%s", text)
			}
			if subject != "News for <script>alert(1)</script> Bcc: victim@example.com" {
				t.Errorf("Subject %q", subject)
			}
		case jane.Email:
			if to.Name != "Jane Doe" || !strings.Contains(body, "Hello Jane Doe from") || !strings.Contains(body, "Budget: $500k</p>") {
				t.Errorf("To %q, body:\n%s", msg.Header.Get("To"), body)
			}
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var (
	pixelRE = regexp.MustCompile(`/t/o/([0-9A-Za-z_-]{22})`)
	// clickRE finds a tracked link: its token and position, "TOKEN/0".
	clickRE = regexp.MustCompile(`/t/c/([0-9A-Za-z_-]{22}/[0-9]+)`)
	unsubRE = regexp.MustCompile(`/u/([0-9A-Za-z_-]{22})`)
)

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestCampaignTrackingAndUnsubscribe(t *testing.T) {
	srv := newServer(t) // no relay: messages stay in the outbox
	a := api{t, srv, srv.Key}
	jane := a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	a.lead("John Roe", "john@example.com", nil, "", nil)
	slug := a.template("Hi {{name}}", newsletter)
	c := a.campaign(map[string]any{"name": "All", "template": slug})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	ms := a.liveMessages(c.ID)
	if len(ms) != 2 || ms[0].To != jane.Email || ms[0].LeadID != jane.ID {
		t.Fatalf("outbox: %+v", ms)
	}
	public := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := noFollow.Get(srv.PublicURL + path) // no key
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("%s: a public link answered with rate-limit headers", path)
		}
		return resp, b
	}

	open0 := pixelRE.FindStringSubmatch(ms[0].HTML)[1]
	open1 := pixelRE.FindStringSubmatch(ms[1].HTML)[1]
	for _, tok := range []string{open0, open0, open1} {
		resp, body := public("/t/o/" + tok)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || resp.Header.Get("Cache-Control") != "no-store" ||
			!bytes.HasPrefix(body, []byte("GIF89a")) {
			t.Fatalf("pixel: %d %v %q", resp.StatusCode, resp.Header, body)
		}
	}
	clicks := clickRE.FindAllStringSubmatch(ms[0].HTML, -1)
	if len(clicks) != 2 {
		t.Fatalf("%d tracked links in %s", len(clicks), ms[0].HTML)
	}
	for i, target := range []string{"https://example.com/offer?x=1&y=2", "https://example.com/about"} {
		if want := fmt.Sprintf("%s/%d", open0, i); clicks[i][1] != want {
			t.Fatalf("tracked link %d is /t/c/%s; want the message's token and the link's position, /t/c/%s", i, clicks[i][1], want)
		}
		resp, _ := public("/t/c/" + clicks[i][1])
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != target {
			t.Fatalf("click %d: %d Location %q, want 302 to %s", i, resp.StatusCode, resp.Header.Get("Location"), target)
		}
	}
	public("/t/c/" + clicks[0][1])
	// A token of the right form that names nothing, a pixel token used as
	// a link of before (a token of its own), an unsubscribe token used as
	// the message's, and positions the message has no link at or that it
	// would not write so.
	unsub0 := unsubRE.FindStringSubmatch(ms[0].HTML)[1]
	for _, path := range []string{"/t/c/AAAAAAAAAAAAAAAAAAAAAA", "/t/c/AAAAAAAAAAAAAAAAAAAAAA/0", "/t/c/" + open0, "/u/" + open0, "/t/c/" + unsub0 + "/0", "/t/c/" + open0 + "/2", "/t/c/" + open0 + "/00", "/t/c/" + open0 + "/01",
		"/t/c/" + open0 + "/-1", "/t/c/" + open0 + "/+1", "/t/c/" + open0 + "/1x", "/t/c/" + open0 + "/x", "/t/c/" + open0 + "/%20",
		"/t/c/" + open0 + "/1e1", "/t/c/" + open0 + "/4294967296", "/t/c/" + open0 + "/99999999999999999999999999999999",
		"/t/c/" + open0 + "/" + strings.Repeat("9", 128)} {
		resp, body := public(path)
		wantError(t, resp, body, 404, gen.ErrorCodeNotFound)
	}
	// A link used as a pixel: no such token.
	if resp, body := public("/t/o/" + clicks[0][1]); resp.StatusCode != 400 && resp.StatusCode != 404 {
		t.Fatalf("a tracked link's path as a pixel: %d %s", resp.StatusCode, body)
	}
	resp, body := public("/t/c/short")
	wantError(t, resp, body, 400, gen.ErrorCodeInvalidParameter)
	resp, body = public("/t/c/short/0")
	wantError(t, resp, body, 400, gen.ErrorCodeInvalidParameter)
	resp, body = public("/t/c/" + strings.Repeat("a", 20) + "%2F%2Fevil.example")
	if resp.StatusCode != 400 && resp.StatusCode != 404 {
		t.Fatalf("a token with a slash: %d %s", resp.StatusCode, body)
	}

	// The link's page changes nothing; its button, a one-click POST, does.
	unsub := unsubRE.FindStringSubmatch(ms[0].HTML)[1]
	resp, body = public("/u/" + unsub)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), `name="List-Unsubscribe" value="One-Click"`) || !strings.Contains(string(body), "jane@example.com") {
		t.Fatalf("unsubscribe page: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var lead gen.LeadEnvelope
	if a.do("GET", "/leads/"+jane.ID, nil, 200, &lead); lead.Data.Status != gen.LeadStatusActive {
		t.Fatalf("lead status %s after a GET of the unsubscribe link", lead.Data.Status)
	}
	for range 2 { // unsubscribing again is harmless
		resp, err := http.Post(srv.PublicURL+"/u/"+unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "unsubscribed") {
			t.Fatalf("unsubscribe: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	a.do("GET", "/leads/"+jane.ID, nil, 200, &lead)
	if lead.Data.Status != gen.LeadStatusUnsubscribed {
		t.Fatalf("lead status %s after unsubscribing", lead.Data.Status)
	}

	want := gen.CampaignStats{Recipients: 2, Sent: 2, Opens: 3, UniqueOpens: 2, Clicks: 3, UniqueClicks: 1, Unsubscribes: 1}
	if s := a.stats(c.ID); s != want {
		t.Fatalf("stats %+v, want %+v", s, want)
	}

	// The next campaign leaves the unsubscribed lead out, and counts it.
	next := a.campaign(map[string]any{"name": "Again", "template": slug})
	a.send(next.ID)
	a.waitStatus(next.ID, gen.CampaignStatusSent)
	if ms := a.messages(next.ID); len(ms) != 2 || ms[0].To != "jane@example.com" || ms[0].Status != gen.CampaignMessageStatusSuppressed ||
		ms[1].To != "john@example.com" || ms[1].Status != gen.CampaignMessageStatusSent {
		t.Fatalf("next campaign's outbox: %+v", ms)
	}
	if s := a.stats(next.ID); s.Recipients != 1 || s.Suppressed != 1 {
		t.Fatalf("next campaign's stats: %+v", s)
	}

	// Deleting a campaign deletes its links.
	a.do("DELETE", "/campaigns/"+c.ID, nil, 204, nil)
	resp, body = public("/t/o/" + open0)
	wantError(t, resp, body, 404, gen.ErrorCodeNotFound)
}

func TestCampaignStateTransitions(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", []string{"buyer"}, "", nil)
	slug := a.template("Hi", "<p>Hi {{name}}</p>")
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	past := time.Now().Add(-time.Minute).UTC()

	a.fail("POST", "/campaigns/add", map[string]any{"name": "X", "template": "no-such-template-0000abcd"}, 422, gen.ErrorCodeTemplateNotFound)
	a.fail("POST", "/campaigns/add", map[string]any{"name": "X", "template": slug, "scheduled_at": past}, 422, gen.ErrorCodeInvalidState)
	a.fail("POST", "/campaigns/add", map[string]any{"name": "X", "template": slug, "status": "sent"}, 400, gen.ErrorCodeInvalidParameter)

	c := a.campaign(map[string]any{"name": "Draft", "template": slug})
	var env gen.CampaignEnvelope
	a.do("PATCH", "/campaigns/"+c.ID, map[string]any{"name": "Renamed", "audience": map[string]any{"types": []string{"client"}, "statuses": []string{"active"}}}, 200, &env)
	if env.Data.Name != "Renamed" || env.Data.Audience.Types == nil || (*env.Data.Audience.Types)[0] != gen.LeadTypeClient {
		t.Fatalf("patched: %+v", env.Data)
	}
	a.fail("PATCH", "/campaigns/"+c.ID, map[string]any{"template": "no-such-template-0000abcd"}, 422, gen.ErrorCodeTemplateNotFound)
	a.fail("POST", "/campaigns/"+c.ID+"/schedule", map[string]any{"scheduled_at": past}, 422, gen.ErrorCodeInvalidState)
	a.do("POST", "/campaigns/"+c.ID+"/schedule", map[string]any{"scheduled_at": future}, 200, &env)
	if env.Data.Status != gen.CampaignStatusScheduled || env.Data.ScheduledAt == nil || !env.Data.ScheduledAt.Equal(future) {
		t.Fatalf("scheduled: %+v", env.Data)
	}
	a.do("PATCH", "/campaigns/"+c.ID, map[string]any{"audience": map[string]any{}}, 200, &env)
	if s := a.send(c.ID); s.Status != gen.CampaignStatusSending {
		t.Fatalf("send a scheduled campaign: %+v", s)
	}
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "", map[string]any{"name": "Too late"}},
		{"POST", "/send", nil},
		{"POST", "/schedule", map[string]any{"scheduled_at": future}},
		{"POST", "/cancel", nil},
	} {
		msg := a.fail(tc.method, "/campaigns/"+c.ID+tc.path, tc.body, 422, gen.ErrorCodeInvalidState)
		if !strings.Contains(msg, c.ID) || !strings.Contains(msg, "sent") {
			t.Errorf("%s %s: message %q does not name the campaign and its status", tc.method, tc.path, msg)
		}
	}

	d := a.campaign(map[string]any{"name": "Cancelled", "template": slug, "scheduled_at": future})
	if d.Status != gen.CampaignStatusScheduled {
		t.Fatalf("created with scheduled_at: %+v", d)
	}
	a.do("POST", "/campaigns/"+d.ID+"/cancel", nil, 200, &env)
	if env.Data.Status != gen.CampaignStatusCancelled || env.Data.CompletedAt == nil {
		t.Fatalf("cancelled: %+v", env.Data)
	}
	if msg := a.fail("POST", "/campaigns/"+d.ID+"/send", nil, 422, gen.ErrorCodeInvalidState); !strings.Contains(msg, "cancelled") {
		t.Errorf("sending a cancelled campaign: %q", msg)
	}
	a.fail("PATCH", "/campaigns/"+d.ID, map[string]any{"name": "X"}, 422, gen.ErrorCodeInvalidState)
	a.do("DELETE", "/campaigns/"+d.ID, nil, 204, nil)
	a.fail("GET", "/campaigns/"+d.ID, nil, 404, gen.ErrorCodeNotFound)

	// A template deleted after the campaign was created.
	gone := a.template("Gone", "<p>gone</p>")
	e := a.campaign(map[string]any{"name": "Orphan", "template": gone})
	a.do("DELETE", "/templates/"+gone, nil, 204, nil)
	a.fail("POST", "/campaigns/"+e.ID+"/send", nil, 422, gen.ErrorCodeTemplateNotFound)

	// Listing, with the status filter.
	var list gen.CampaignList
	a.do("GET", "/campaigns?status=sent", nil, 200, &list)
	if list.Length != 1 || list.Data[0].ID != c.ID {
		t.Fatalf("sent campaigns: %+v", list)
	}
	a.do("GET", "/campaigns?sort=name&order=asc&limit=1", nil, 200, &list)
	if list.Length != 1 || list.Data[0].Name != "Orphan" || list.HasMore == nil || !*list.HasMore {
		t.Fatalf("first by name: %+v", list)
	}
}

func TestCampaignSendingCanBeCancelledNotDeleted(t *testing.T) {
	srv := newServer(t, servertest.WithoutCampaignWorker())
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "Stuck", "template": a.template("Hi", "<p>Hi</p>")})
	a.send(c.ID)
	a.fail("DELETE", "/campaigns/"+c.ID, nil, 422, gen.ErrorCodeInvalidState)
	a.fail("PATCH", "/campaigns/"+c.ID, map[string]any{"name": "X"}, 422, gen.ErrorCodeInvalidState)
	var env gen.CampaignEnvelope
	a.do("POST", "/campaigns/"+c.ID+"/cancel", nil, 200, &env)
	if env.Data.Status != gen.CampaignStatusCancelled {
		t.Fatalf("cancel a sending campaign: %+v", env.Data)
	}
	if s := a.stats(c.ID); s.Recipients != 1 || s.Pending != 1 || s.Sent != 0 {
		t.Fatalf("stats of a cancelled campaign: %+v", s)
	}
	a.do("DELETE", "/campaigns/"+c.ID, nil, 204, nil)
}

func TestCampaignsAreIsolated(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "Mine", "template": a.template("Hi", "<p>Hi</p>")})
	other := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "", nil}, {"PATCH", "", map[string]any{"name": "X"}}, {"DELETE", "", nil},
		{"POST", "/send", nil}, {"POST", "/cancel", nil}, {"POST", "/schedule", map[string]any{"scheduled_at": time.Now().Add(time.Hour)}},
		{"GET", "/stats", nil}, {"GET", "/messages", nil},
	} {
		other.fail(tc.method, "/campaigns/"+c.ID+tc.path, tc.body, 404, gen.ErrorCodeNotFound)
	}
	// Nor can another account name this account's template.
	other.fail("POST", "/campaigns/add", map[string]any{"name": "X", "template": c.Template}, 422, gen.ErrorCodeTemplateNotFound)
	var list gen.CampaignList
	other.do("GET", "/campaigns", nil, 200, &list)
	if list.Length != 0 {
		t.Fatalf("another account lists %+v", list)
	}
	readOnly := api{t, srv, srv.NewReadOnlyKey(t)}
	readOnly.fail("POST", "/campaigns/"+c.ID+"/send", nil, 403, gen.ErrorCodeForbidden)
	if got := a.get(c.ID); got.Status != gen.CampaignStatusDraft {
		t.Fatalf("after refused calls: %+v", got)
	}
}

func TestScheduledCampaignStartsOnItsOwn(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	at := time.Now().Add(1500 * time.Millisecond)
	c := a.campaign(map[string]any{"name": "Soon", "template": a.template("Hi", "<p>Hi</p>"), "scheduled_at": at})
	if c.Status != gen.CampaignStatusScheduled {
		t.Fatalf("created: %+v", c)
	}
	// A scheduled campaign whose template is deleted can never start: it
	// is cancelled when its time comes.
	gone := a.template("Gone", "<p>Gone</p>")
	orphan := a.campaign(map[string]any{"name": "Orphan", "template": gone, "scheduled_at": at})
	a.do("DELETE", "/templates/"+gone, nil, 204, nil)

	done := a.waitStatus(c.ID, gen.CampaignStatusSent)
	if done.StartedAt == nil || done.StartedAt.Before(at.Truncate(time.Millisecond)) || done.Counts.Sent != 1 {
		t.Fatalf("started at %v, scheduled at %v: %+v", done.StartedAt, at, done)
	}
	if o := a.waitStatus(orphan.ID, gen.CampaignStatusCancelled); o.StartedAt != nil || o.Counts.Recipients != 0 {
		t.Fatalf("orphan campaign: %+v", o)
	}
}

func TestCampaignRelayRefusals(t *testing.T) {
	var tempFailures int
	relay := smtptest.New(t, smtptest.WithRcpt(func(to string) error {
		switch to {
		case "bounce@example.com":
			return smtptest.Reply(550, "No such user")
		case "later@example.com":
			if tempFailures < 2 {
				tempFailures++
				return smtptest.Reply(451, "Try again later")
			}
		}
		return nil
	}))
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none")), servertest.WithCampaignWorker(func(c *campaign.WorkerConfig) {
		c.RetryDelay, c.RelayBackoff = 10*time.Millisecond, 10*time.Millisecond
		c.Concurrency = 1 // the hook above is not guarded
	}))
	a := api{t, srv, srv.Key}
	for _, e := range []string{"ok@example.com", "bounce@example.com", "later@example.com"} {
		a.lead("Lead "+e, e, nil, "", nil)
	}
	c := a.campaign(map[string]any{"name": "Mixed", "template": a.template("Hi", "<p>Hi</p>")})
	a.send(c.ID)
	done := a.waitStatus(c.ID, gen.CampaignStatusSent)
	if done.Counts != (gen.CampaignCounts{Recipients: 3, Sent: 2, Failed: 1}) {
		t.Fatalf("counts %+v", done.Counts)
	}
	for _, m := range a.messages(c.ID) {
		switch m.To {
		case "bounce@example.com":
			// The remote reply, not the relay's address: that is the operator's.
			if m.Status != gen.CampaignMessageStatusFailed || !strings.HasPrefix(m.Error, "recipient refused: 550 ") ||
				!strings.Contains(m.Error, "No such user") || strings.Contains(m.Error, relay.Addr) || m.SentAt != nil {
				t.Errorf("bounced message: %+v", m)
			}
		default:
			if m.Status != gen.CampaignMessageStatusSent || m.Error != "" {
				t.Errorf("message to %s: %+v", m.To, m)
			}
		}
	}
	if r := smtptest.Recipients(relay.Messages()); !equalCounts(r, map[string]int{"ok@example.com": 1, "later@example.com": 1}) {
		t.Fatalf("relay received %v", r)
	}
}

// While the relay is down, a message's error says so and no more: the
// relay's address and the dial error are the operator's, in the log.
func TestRelayDownIsToldWithoutTheOperatorsAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close() // nothing listens there now
	var logs bytes.Buffer
	srv := newServer(t, servertest.WithSMTP("smtp://"+down+"?starttls=none"), servertest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		servertest.WithCampaignWorker(func(c *campaign.WorkerConfig) {
			c.RetryDelay, c.RelayBackoff, c.MaxAttempts = time.Millisecond, time.Millisecond, 1
		}))
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "Down", "template": a.template("Hi", "<p>Hi</p>")})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	ms := a.messages(c.ID)
	if len(ms) != 1 || ms[0].Status != gen.CampaignMessageStatusFailed || ms[0].Error != "relay unavailable" {
		t.Fatalf("messages %+v; want one failed with the error \"relay unavailable\"", ms)
	}
	if !strings.Contains(logs.String(), down) {
		t.Errorf("the log does not name the relay's address %s for the operator:\n%s", down, logs.String())
	}
}

// A lead who unsubscribes, or whose address is suppressed, while the
// campaign is sending is not mailed, though its message was queued:
// the worker checks again just before it sends.
func TestUnsubscribeWinsOverTheQueue(t *testing.T) {
	reached, release := make(chan struct{}), make(chan struct{})
	relay := smtptest.New(t, smtptest.WithRcpt(func(to string) error {
		if to == "ann@example.com" {
			close(reached)
			select { // the test changes the others while this one is held
			case <-release:
			case <-time.After(30 * time.Second):
			}
		}
		return nil
	}))
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none")), servertest.WithCampaignWorker(func(c *campaign.WorkerConfig) {
		c.Concurrency = 1 // one message at a time, in queue order
	}))
	a := api{t, srv, srv.Key}
	a.lead("Ann", "ann@example.com", nil, "", nil)
	bob := a.lead("Bob", "bob@example.com", nil, "", nil)
	a.lead("Cara", "cara@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "Queued", "template": a.template("Hi", "<p>Hi {{name}}</p>")})
	a.send(c.ID)
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the first message never reached the relay")
	}
	// Every message is queued by now; two leads leave while the first is sent.
	a.do("PATCH", "/leads/"+bob.ID, map[string]any{"status": "unsubscribed"}, 200, nil)
	a.do("POST", "/suppressions/add", map[string]any{"email": "cara@example.com", "reason": "manual"}, 201, nil)
	close(release)
	done := a.waitStatus(c.ID, gen.CampaignStatusSent)
	if r := smtptest.Recipients(relay.Messages()); !equalCounts(r, map[string]int{"ann@example.com": 1}) {
		t.Errorf("the relay received %v; want only ann", r)
	}
	want := map[string]string{
		"ann@example.com":  "",
		"bob@example.com":  "The lead is unsubscribed",
		"cara@example.com": "The address is on the account's suppression list (manual)",
	}
	for _, m := range a.messages(c.ID) {
		status := gen.CampaignMessageStatusSuppressed
		if m.To == "ann@example.com" {
			status = gen.CampaignMessageStatusSent
		}
		if m.Status != status || m.Error != want[m.To] || (status == gen.CampaignMessageStatusSuppressed) != (m.SentAt == nil) {
			t.Errorf("message to %s: %s %q; want %s %q", m.To, m.Status, m.Error, status, want[m.To])
		}
	}
	if done.Counts.Recipients != 1 || done.Counts.Sent != 1 {
		t.Errorf("counts %+v; want the one recipient sent", done.Counts)
	}
}

package server_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// An open pixel fetched 10,000 times in a loop: past the token's bucket
// the hits are refused with 429 in the envelope, the statistics keep at
// most axiom.MaxLinkHits rows of it, and count one unique open.
func TestPublicLinkHitsAreThrottledAndBounded(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "All", "template": a.template("Hi {{name}}", newsletter)})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	ms := a.liveMessages(c.ID)
	open := pixelRE.FindStringSubmatch(ms[0].HTML)[1]
	click := clickRE.FindStringSubmatch(ms[0].HTML)[1]

	counts := map[int]int{}
	for i := range 10000 {
		path := "/t/o/" + open
		if i%2 == 1 {
			path = "/t/c/" + click
		}
		resp, err := noFollow.Get(srv.PublicURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		counts[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && counts[http.StatusTooManyRequests] == 1 {
			wantError(t, resp, body, http.StatusTooManyRequests, gen.ErrorCodeRateLimitExceeded)
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Fatalf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
			}
		}
	}
	if counts[http.StatusTooManyRequests] < 9900 || counts[http.StatusOK]+counts[http.StatusFound]+counts[http.StatusTooManyRequests] != 10000 {
		t.Fatalf("10,000 hits on two tokens answered %v; want all but a burst refused with 429", counts)
	}
	st := a.stats(c.ID)
	if st.Opens < 1 || st.Opens > axiom.MaxLinkHits || st.UniqueOpens != 1 || st.Clicks < 1 || st.Clicks > axiom.MaxLinkHits || st.UniqueClicks != 1 {
		t.Fatalf("stats after 10,000 hits: %+v; want at most %d opens and clicks, one unique each", st, axiom.MaxLinkHits)
	}
}

// A URL in a lead's data is sent as written, never wrapped in a tracked
// redirect of the API's domain; the template's own link still is.
func TestLeadControlledURLIsNotWrapped(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	evil := "https://attacker.example/phish"
	a.lead("Jane Doe", "jane@example.com", nil, "", map[string]string{"url": evil})
	slug := a.template("Hi", `<p><a href="{{custom.url}}">yours</a> <a href="https://example.com/offer">ours</a></p>`)
	c := a.campaign(map[string]any{"name": "All", "template": slug})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	html := a.liveMessages(c.ID)[0].HTML
	if !strings.Contains(html, `<a href="`+evil+`">yours</a>`) {
		t.Errorf("the lead's URL is not sent as written:\n%s", html)
	}
	clicks := clickRE.FindAllStringSubmatch(html, -1)
	if len(clicks) != 1 {
		t.Fatalf("%d tracked links, want the template's one:\n%s", len(clicks), html)
	}
	resp, err := noFollow.Get(srv.PublicURL + "/t/c/" + clicks[0][1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/offer" {
		t.Fatalf("the tracked link: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A token is the recipient's credential: no key, read-only or not, reads
// a live one anywhere in the API; the listing carries no body, and one
// message's body shows its tokens as REDACTED.
func TestNoKeySeesALiveToken(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	a.lead("John Roe", "john@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "All", "template": a.template("Hi {{name}}", newsletter)})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	var tokens []string
	for _, m := range a.liveMessages(c.ID) {
		// The open token is in the pixel and in each tracked link.
		tokens = append(tokens, m.OpenToken, m.UnsubscribeToken)
		if n := strings.Count(m.HTML, "/t/c/"+m.OpenToken+"/"); n != 2 {
			t.Fatalf("%d tracked links carry the open token; want the template's 2", n)
		}
	}
	if len(tokens) != 4 {
		t.Fatalf("%d live tokens, want 2 messages × (pixel and links, unsubscribe)", len(tokens))
	}
	for _, key := range []string{srv.NewReadOnlyKey(t), srv.Key} {
		ro := api{t, srv, key}
		var seen strings.Builder
		list := ro.do("GET", "/campaigns/"+c.ID+"/messages?limit=100", nil, 200, nil)
		seen.Write(list)
		if strings.Contains(string(list), `"html"`) || strings.Contains(string(list), `"text"`) {
			t.Errorf("the listing carries bodies: %s", list)
		}
		for _, m := range ro.messages(c.ID) {
			full := ro.message(c.ID, m.ID)
			seen.WriteString(*full.HTML + *full.Text)
			if !strings.Contains(*full.HTML, srv.PublicURL+"/t/o/REDACTED") || !strings.Contains(*full.Text, srv.PublicURL+"/u/REDACTED") {
				t.Errorf("message %s: the links are not shown redacted:\n%s\n%s", m.ID, *full.HTML, *full.Text)
			}
		}
		for _, path := range []string{"/campaigns/" + c.ID, "/campaigns/" + c.ID + "/stats", "/campaigns?limit=100"} {
			seen.Write(ro.do("GET", path, nil, 200, nil))
		}
		for _, tok := range tokens {
			if strings.Contains(seen.String(), tok) {
				t.Errorf("the API shows the live token %s", tok)
			}
		}
	}
	// Another account reads no message of the campaign.
	other := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	other.fail("GET", "/campaigns/"+c.ID+"/messages/"+a.messages(c.ID)[0].ID, nil, http.StatusNotFound, gen.ErrorCodeNotFound)
}

// Two accounts send through one relay at once: the small account's one
// message goes out within a few deliveries of its send, not after the
// large account's whole campaign.
func TestSmallAccountIsNotQueuedBehindALargeOne(t *testing.T) {
	relay := smtptest.New(t, smtptest.WithRcpt(func(string) error {
		time.Sleep(10 * time.Millisecond) // a relay that takes its time, so that a backlog builds
		return nil
	}))
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none")),
		servertest.WithCampaignWorker(func(c *campaign.WorkerConfig) { c.SendRate = 0 }))
	big := api{t, srv, srv.Key}
	for i := range 80 {
		big.lead(fmt.Sprintf("Big %d", i), fmt.Sprintf("big%d@example.com", i), nil, "", nil)
	}
	bc := big.campaign(map[string]any{"name": "Big", "template": big.template("Hi", "<p>Hi</p>")})
	small := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	small.lead("Small", "small@example.com", nil, "", nil)
	sc := small.campaign(map[string]any{"name": "Small", "template": small.template("Hi", "<p>Hi</p>")})

	big.send(bc.ID)
	for len(relay.Messages()) < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	small.send(sc.ID)
	before := len(relay.Messages())
	small.waitStatus(sc.ID, gen.CampaignStatusSent)
	got := relay.Messages()
	at := slices.IndexFunc(got, func(m smtptest.Message) bool { return slices.Contains(m.To, "small@example.com") })
	if at < 0 {
		t.Fatal("the small account's message never reached the relay")
	}
	// In flight when it was queued: a claim of each delivery slot (4) and
	// the deliveries under way.
	if at-before > 8 {
		t.Errorf("the small account's message was delivery %d, %d after its send; want within a few", at+1, at-before)
	}
	if big.get(bc.ID).Status == gen.CampaignStatusSent {
		t.Log("the large campaign finished first: the relay was faster than the test assumes")
	}
}

// Each plan has a daily sending quota: the send that would pass it is
// refused with 429 send_quota_exceeded and Retry-After, before anything is
// queued; a smaller audience still fits.
func TestSendQuotaRefusesBeforeQueuing(t *testing.T) {
	srv := newServer(t, servertest.WithSendQuotas(axiom.SendQuotas{axiom.PlanStarter: 3}))
	a := api{t, srv, srv.Key}
	slug := a.template("Hi", "<p>Hi</p>")
	a.lead("A", "a@example.com", []string{"first"}, "", nil)
	a.lead("B", "b@example.com", []string{"first"}, "", nil)
	first := a.campaign(map[string]any{"name": "First", "template": slug, "audience": map[string]any{"tags": []string{"first"}}})
	a.send(first.ID)
	a.lead("C", "c@example.com", nil, "", nil)
	a.lead("D", "d@example.com", []string{"late"}, "", nil)

	all := a.campaign(map[string]any{"name": "All", "template": slug})
	resp, body := call(t, http.MethodPost, srv.URL+"/campaigns/"+all.ID+"/send", srv.Key, "", nil)
	wantError(t, resp, body, http.StatusTooManyRequests, gen.ErrorCodeSendQuotaExceeded)
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 24*3600 {
		t.Errorf("Retry-After %q, want the seconds until the first campaign leaves the 24 hours", resp.Header.Get("Retry-After"))
	}
	if got := a.get(all.ID); got.Status != gen.CampaignStatusDraft || got.Counts.Recipients != 0 || len(a.messages(all.ID)) != 0 {
		t.Fatalf("the refused campaign: %+v; want a draft with nothing queued", got)
	}
	// 2 sent and 1 more make the quota of 3: allowed.
	late := a.campaign(map[string]any{"name": "Late", "template": slug, "audience": map[string]any{"tags": []string{"late"}}})
	a.send(late.ID)
	a.waitStatus(late.ID, gen.CampaignStatusSent)
	// Another account's quota is its own.
	other := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	other.lead("X", "x@example.com", nil, "", nil)
	oc := other.campaign(map[string]any{"name": "Other", "template": other.template("Hi", "<p>Hi</p>")})
	other.send(oc.ID)
}

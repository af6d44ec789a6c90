package server_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
	"github.com/axiomkit/axiom/server/servertest"
)

// get sends a GET with an optional key and headers, and reads the answer.
func getWith(t *testing.T, url, key string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Requests without a valid key spend a small bucket of their address: its
// burst of 401s, then 429s with Retry-After, every one with the bucket's
// headers; a valid key from the same address is not slowed.
func TestUnauthenticatedRequestsAreThrottledByAddress(t *testing.T) {
	const rate, burst = 6, 5
	srv := newServer(t, servertest.WithUnauthenticatedLimit(rate, burst))
	var unauthorized, limited int
	for i := range 1000 {
		key := "axm_" + rand.Text() + rand.Text()
		if i%10 == 0 {
			key = "" // no key at all counts the same
		}
		resp, body := getWith(t, srv.URL+"/leads", key, nil)
		limit, remaining, _ := wantRateHeaders(t, resp.Header)
		if limit != rate {
			t.Fatalf("request %d: X-RateLimit-Limit %d, want the address bucket's %d", i, limit, rate)
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			if limited > 0 {
				t.Fatalf("request %d: a 401 after %d 429s: the bucket refilled within the run?", i, limited)
			}
			wantError(t, resp, body, http.StatusUnauthorized, gen.ErrorCodeUnauthorized)
			if remaining != burst-1-unauthorized {
				t.Errorf("request %d: X-RateLimit-Remaining %d, want %d", i, remaining, burst-1-unauthorized)
			}
			unauthorized++
		case http.StatusTooManyRequests:
			wantError(t, resp, body, http.StatusTooManyRequests, gen.ErrorCodeRateLimitExceeded)
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
				t.Fatalf("request %d: 429 with Retry-After %q", i, resp.Header.Get("Retry-After"))
			}
			limited++
		default:
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	// A refill every 10 s: the run may see one or two more 401s than the burst.
	if unauthorized < burst || unauthorized > burst+2 || limited < 990 {
		t.Errorf("1000 requests without a valid key: %d answered 401, %d 429; want the burst of %d, then 429s", unauthorized, limited, burst)
	}
	resp, body := getWith(t, srv.URL+"/leads", srv.Key, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a valid key from the throttled address: %d %s", resp.StatusCode, body)
	}
	if limit, _, _ := wantRateHeaders(t, resp.Header); limit != 60 {
		t.Errorf("a valid key's X-RateLimit-Limit is %d, want its Starter plan's 60", limit)
	}
}

// Behind a trusted proxy each client address has its own bucket; from
// anywhere else X-Forwarded-For is ignored, so that a client cannot choose
// its bucket.
func TestClientAddressBehindATrustedProxy(t *testing.T) {
	spend := func(srv *servertest.Server, forwardedFor string) (statuses []int) {
		for range 3 {
			resp, _ := getWith(t, srv.URL+"/leads", "axm_wrong", map[string]string{"X-Forwarded-For": forwardedFor})
			statuses = append(statuses, resp.StatusCode)
		}
		return statuses
	}
	trusting := newServer(t, servertest.WithUnauthenticatedLimit(1, 2),
		servertest.WithTrustedProxies(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")))
	if got := spend(trusting, "203.0.113.7"); got[2] != http.StatusTooManyRequests {
		t.Fatalf("one client behind the proxy: %v, want 401, 401, 429", got)
	}
	if got := spend(trusting, "203.0.113.8"); got[0] != http.StatusUnauthorized {
		t.Errorf("another client behind the proxy: %v, want a bucket of its own", got)
	}
	direct := newServer(t, servertest.WithUnauthenticatedLimit(1, 2))
	spend(direct, "203.0.113.7")
	if got := spend(direct, "198.51.100.1"); got[0] != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For without a trusted proxy: %v, want the connection's bucket, already spent", got)
	}
}

// HEAD is GET without the body, on every GET operation that takes a key.
func TestHeadOnEveryGet(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	api := apiClient(t, srv, srv.Key)
	lead, err := api.CreateLeadWithResponse(t.Context(), nil, gen.LeadCreate{Name: "Head", Email: "head@example.com"})
	if err != nil || lead.JSON201 == nil {
		t.Fatalf("create lead: %v", err)
	}
	tmpl, err := api.CreateTemplateWithResponse(t.Context(), nil, gen.TemplateCreate{Name: "Head", Subject: "S", Content: "<p>Hi</p>"})
	if err != nil || tmpl.JSON201 == nil {
		t.Fatalf("create template: %v", err)
	}
	camp, err := api.CreateCampaignWithResponse(t.Context(), nil, gen.CampaignCreate{Name: "Head", Template: tmpl.JSON201.Data.Template})
	if err != nil || camp.JSON201 == nil {
		t.Fatalf("create campaign: %v", err)
	}
	doc, err := genserver.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"id": "", "slug": tmpl.JSON201.Data.Template}
	checked := 0
	for path, item := range doc.Paths.Map() {
		if item.Get == nil || (item.Get.Security != nil && len(*item.Get.Security) == 0) {
			continue // the public links of messages have their own
		}
		target := srv.URL + path
		if strings.Contains(path, "/campaigns/{id}") {
			target = strings.ReplaceAll(target, "{id}", camp.JSON201.Data.ID)
		}
		target = strings.ReplaceAll(strings.ReplaceAll(target, "{id}", lead.JSON201.Data.ID), "{slug}", ids["slug"])
		for _, suffix := range []string{"", "/missing-no-such-path"} {
			if suffix != "" && !strings.Contains(path, "{") {
				continue
			}
			u := target
			if suffix != "" {
				u = strings.Replace(target, lead.JSON201.Data.ID, "cnt_missing", 1)
				u = strings.Replace(u, camp.JSON201.Data.ID, "cmp_missing", 1)
				u = strings.Replace(u, ids["slug"], "missing-0000abcd", 1)
			}
			g, gbody := getWith(t, u, srv.Key, nil)
			req, _ := http.NewRequest(http.MethodHead, u, nil)
			req.Header.Set("X-API-Key", srv.Key)
			h, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			hbody, _ := io.ReadAll(h.Body)
			h.Body.Close()
			if h.StatusCode != g.StatusCode || len(hbody) != 0 {
				t.Errorf("HEAD %s: %d with %d bytes; GET %d", path, h.StatusCode, len(hbody), g.StatusCode)
			}
			for _, name := range []string{"Content-Type", "Cache-Control", "X-RateLimit-Limit", "X-Content-Type-Options"} {
				if h.Header.Get(name) != g.Header.Get(name) {
					t.Errorf("HEAD %s: %s %q, GET %q", path, name, h.Header.Get(name), g.Header.Get(name))
				}
			}
			if cl := h.Header.Get("Content-Length"); cl != strconv.Itoa(len(gbody)) {
				t.Errorf("HEAD %s: Content-Length %q, GET's body is %d bytes", path, cl, len(gbody))
			}
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("checked HEAD on %d GETs; the spec has more", checked)
	}
	// A path without GET: 405, naming what it allows. (/leads/add is also
	// /leads/{id} with the id "add", which GET and HEAD answer 400.)
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/campaigns/"+camp.JSON201.Data.ID+"/send", nil)
	req.Header.Set("X-API-Key", srv.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "POST") {
		t.Errorf("HEAD /campaigns/{id}/send: %d, Allow %q; want 405 allowing POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// A query string Go would parse only in part is refused, naming the
// parameter, instead of answered as if it had not been sent.
func TestUnparsableQuery(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct{ query, name string }{
		{"sort=name;DROP", "sort"},
		{"limit=10&order=asc;x=1", "order"},
		{"search=%zz", "search"},
		{"li%zzmit=1", "li%zzmit"},
	} {
		resp, body := getWith(t, srv.URL+"/leads?"+tc.query, srv.Key, nil)
		e := wantError(t, resp, body, http.StatusBadRequest, gen.ErrorCodeInvalidParameter)
		if !strings.Contains(e.Message, "'"+tc.name+"'") {
			t.Errorf("?%s: %q does not name the parameter %q", tc.query, e.Message, tc.name)
		}
	}
}

// HEAD of a message's public links answers as GET does, without a body,
// and records nothing: link checkers and mail scanners send HEADs.
func TestHeadOnPublicLinksCountsNothing(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	jane := a.lead("Jane Doe", "jane@example.com", nil, "", nil)
	c := a.campaign(map[string]any{"name": "Head", "template": a.template("Hi {{name}}", newsletter)})
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	ms := a.liveMessages(c.ID)
	open := pixelRE.FindStringSubmatch(ms[0].HTML)[1]
	click := clickRE.FindStringSubmatch(ms[0].HTML)[1]
	unsub := unsubRE.FindStringSubmatch(ms[0].HTML)[1]
	send := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.PublicURL+path, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, tc := range []struct {
		path   string
		status int
		header string
	}{
		{"/t/o/" + open, http.StatusOK, "Content-Type"},
		{"/t/c/" + click, http.StatusFound, "Location"},
		{"/u/" + unsub, http.StatusOK, "Content-Type"},
		{"/t/o/AAAAAAAAAAAAAAAAAAAAAA", http.StatusNotFound, "Content-Type"},
		{"/t/c/" + open, http.StatusNotFound, "Content-Type"},
	} {
		for range 3 {
			resp, body := send(http.MethodHead, tc.path)
			if resp.StatusCode != tc.status || len(body) != 0 || resp.Header.Get(tc.header) == "" {
				t.Fatalf("HEAD %s: %d %s=%q with %d bytes; want %d, no body", tc.path, resp.StatusCode, tc.header, resp.Header.Get(tc.header), len(body), tc.status)
			}
		}
	}
	if s := a.stats(c.ID); s.Opens != 0 || s.Clicks != 0 || s.Unsubscribes != 0 {
		t.Fatalf("stats after HEADs of the links: %+v; want nothing counted", s)
	}
	if st := a.leadStatus(jane.ID); st != gen.LeadStatusActive {
		t.Fatalf("lead %s after HEADs of the unsubscribe link", st)
	}
	// The same links by GET do count: the HEADs above were not refused.
	send(http.MethodGet, "/t/o/"+open)
	send(http.MethodGet, "/t/c/"+click)
	if s := a.stats(c.ID); s.Opens != 1 || s.Clicks != 1 {
		t.Fatalf("stats after a GET of each link: %+v; want one open, one click", s)
	}
}

package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/client/validate"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/server/servertest"
)

func ptr[T any](v T) *T { return &v }

// loadValidator loads the embedded description once for all tests.
var loadValidator = sync.OnceValues(validate.New)

// newClient is a client of srv that also checks every response against
// openapi.yaml, so that each test doubles as a contract test of the server.
func newClient(t *testing.T, baseURL, key string, opts ...client.Option) *client.Client {
	t.Helper()
	v, err := loadValidator()
	if err != nil {
		t.Fatalf("validate.New: %v", err)
	}
	c, err := client.New(key, append([]client.Option{client.WithBaseURL(baseURL), client.WithResponseValidator(v)}, opts...)...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

func TestIntegrationLeads(t *testing.T) {
	srv := servertest.New(t)
	c := newClient(t, srv.URL, srv.Key)
	ctx := context.Background()

	created, err := c.Leads.Create(ctx, gen.LeadCreate{
		Name: "Jane Doe", Email: "jane.doe@example.com", Phone: ptr("+11235550199"),
		Type: ptr(gen.LeadTypeLead), Source: ptr("API"), Notes: &[]string{"seller", "commercial"},
		CustomFields: &gen.CustomFields{"property_type": "Office Space"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(created.ID, "cnt_") || created.Status != gen.LeadStatusActive || created.StatusCode != 201 {
		t.Errorf("Create = %+v", created)
	}
	if created.RateLimit.Limit != 60 || created.RateLimit.Remaining != 99 || created.RateLimit.Reset.IsZero() || created.RequestID == "" {
		t.Errorf("Create response = %+v, want Starter's rate limit after one request and a request id", created.Response)
	}

	got, err := c.Leads.Get(ctx, created.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Email != "jane.doe@example.com" || got.CustomFields["property_type"] != "Office Space" {
		t.Errorf("Get = %+v", got.Lead)
	}

	updated, err := c.Leads.Update(ctx, created.ID, gen.LeadUpdate{Type: ptr(gen.LeadTypeClient), Tags: &[]string{"buyer"}})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Type != gen.LeadTypeClient || len(updated.Tags) != 1 || updated.Name != "Jane Doe" {
		t.Errorf("Update = %+v", updated.Lead)
	}

	page, err := c.Leads.List(ctx, &gen.ListLeadsParams{Search: ptr("jane")})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Leads) != 1 || page.Leads[0].ID != created.ID || page.HasMore {
		t.Errorf("List = %+v", page)
	}

	del, err := c.Leads.Delete(ctx, created.ID)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if del.StatusCode != 204 {
		t.Errorf("Delete status = %d", del.StatusCode)
	}
	if _, err := c.Leads.Get(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
}

func TestIntegrationTemplates(t *testing.T) {
	srv := servertest.New(t)
	c := newClient(t, srv.URL, srv.Key)
	ctx := context.Background()

	created, err := c.Templates.Create(ctx, gen.TemplateCreate{Name: "From API", Subject: "Test from API", Content: "<p>html content</p>"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(created.Slug, "from-api-") {
		t.Errorf("Create slug = %q", created.Slug)
	}
	got, err := c.Templates.Get(ctx, created.Slug)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Subject != "Test from API" || got.Content != "<p>html content</p>" {
		t.Errorf("Get = %+v", got.Template)
	}
	updated, err := c.Templates.Update(ctx, created.Slug, gen.TemplateUpdate{Subject: ptr("Second subject")})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Subject != "Second subject" || updated.Name != "From API" {
		t.Errorf("Update = %+v", updated.Template)
	}
	page, err := c.Templates.List(ctx, nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Templates) != 1 || page.Templates[0].Slug != created.Slug {
		t.Errorf("List = %+v", page.Templates)
	}
	var all int
	for _, err := range c.Templates.All(ctx, nil) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		all++
	}
	if all != 1 {
		t.Errorf("All yielded %d templates, want 1", all)
	}
	if _, err := c.Templates.Delete(ctx, created.Slug); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Templates.Delete(ctx, created.Slug); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

// countingTransport counts the requests that leave the client.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestIntegrationPagination(t *testing.T) {
	srv := servertest.New(t, servertest.WithoutRateLimit())
	ctx := context.Background()
	const n = 230
	setup := newClient(t, srv.URL, srv.Key)
	want := map[string]bool{}
	for i := range n {
		l, err := setup.Leads.Create(ctx, gen.LeadCreate{Name: fmt.Sprintf("Lead %d", i), Email: fmt.Sprintf("lead%d@example.com", i)})
		if err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
		want[l.ID] = true
	}

	counter := &countingTransport{base: http.DefaultTransport}
	c := newClient(t, srv.URL, srv.Key, client.WithHTTPClient(&http.Client{Transport: counter}))
	seen := map[string]bool{}
	var previous time.Time
	for lead, err := range c.Leads.All(ctx, &gen.ListLeadsParams{Limit: ptr(50), Sort: ptr(gen.LeadSortFieldCreatedAt), Order: ptr(gen.ListLeadsParamsOrderAsc)}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if seen[lead.ID] || !want[lead.ID] {
			t.Fatalf("lead %s repeated or unknown", lead.ID)
		}
		if lead.CreatedAt.Before(previous) {
			t.Fatalf("lead %s out of order", lead.ID)
		}
		previous = lead.CreatedAt
		seen[lead.ID] = true
	}
	if len(seen) != n {
		t.Errorf("All yielded %d leads, want %d", len(seen), n)
	}
	// 50+50+50+50+30: five pages, the last one short.
	if got := counter.n.Load(); got != 5 {
		t.Errorf("All sent %d requests, want 5", got)
	}
}

func TestIntegrationSentinelErrors(t *testing.T) {
	srv := servertest.New(t)
	ctx := context.Background()
	c := newClient(t, srv.URL, srv.Key)
	if _, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane", Email: "jane@example.com"}); err != nil {
		t.Fatal(err)
	}
	readOnly := newClient(t, srv.URL, srv.NewReadOnlyKey(t))
	stranger := newClient(t, srv.URL, "sk_live_not_a_key")

	tests := []struct {
		name   string
		call   func() error
		want   error
		status int
	}{
		{"not found", func() error { _, err := c.Leads.Get(ctx, "cnt_missing"); return err }, client.ErrNotFound, 404},
		{"unauthorized", func() error { _, err := stranger.Leads.List(ctx, nil); return err }, client.ErrUnauthorized, 401},
		{"forbidden", func() error {
			_, err := readOnly.Leads.Create(ctx, gen.LeadCreate{Name: "Jo", Email: "jo@example.com"})
			return err
		}, client.ErrForbidden, 403},
		{"invalid parameter", func() error {
			_, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jo", Email: "not an email"})
			return err
		}, client.ErrInvalidParameter, 400},
		{"duplicate entry", func() error {
			_, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane again", Email: "JANE@example.com"})
			return err
		}, client.ErrDuplicateEntry, 422},
		{"idempotency key reused", func() error {
			if _, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "A", Email: "a@example.com"}, client.IdempotencyKey("key-1")); err != nil {
				return fmt.Errorf("first create: %w", err)
			}
			_, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "B", Email: "b@example.com"}, client.IdempotencyKey("key-1"))
			return err
		}, client.ErrIdempotencyKeyReused, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.DocumentationURL == "" || apiErr.Message == "" {
				t.Errorf("*Error = %+v", apiErr)
			}
		})
	}

	t.Run("rate limited", func(t *testing.T) {
		drained := newDrainedServer(t, 0, true)
		noRetry := newClient(t, drained.URL, drained.Key, client.WithRetryPolicy(client.RetryPolicy{}))
		_, err := noRetry.Leads.List(ctx, nil)
		var apiErr *client.Error
		if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &apiErr) {
			t.Fatalf("error = %v, want ErrRateLimited", err)
		}
		if apiErr.RetryAfter != time.Second || apiErr.RateLimit.Limit != 60 || apiErr.RateLimit.Remaining != 0 || apiErr.RequestID == "" {
			t.Errorf("*Error = %+v, want Retry-After 1s and the rate-limit state", apiErr)
		}
	})
}

// serverClock is the rate limiter's clock: frozen while a test spends the
// bucket, so that it does not refill meanwhile, then running from there.
type serverClock struct {
	mu       sync.Mutex
	frozen   bool
	at, from time.Time
}

func (c *serverClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	return c.at.Add(time.Since(c.from))
}

func (c *serverClock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen, c.from = false, time.Now()
}

// newDrainedServer is a reference server whose Starter account has keep
// requests left; the bucket's clock starts when the function returns, or
// never when frozen is set.
func newDrainedServer(t *testing.T, keep int, frozen bool) *servertest.Server {
	t.Helper()
	clock := &serverClock{frozen: true, at: time.Now()}
	srv := servertest.New(t, servertest.WithLimiter(ratelimit.NewMemory(ratelimit.WithClock(clock.now))))
	c := newClient(t, srv.URL, srv.Key, client.WithRetryPolicy(client.RetryPolicy{}))
	for i := range 100 - keep {
		if _, err := c.Leads.List(context.Background(), nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if !frozen {
		clock.release()
	}
	return srv
}

// TestIntegrationRetryAfter: with the bucket empty, a call waits the
// server's Retry-After (1s on Starter) and succeeds.
func TestIntegrationRetryAfter(t *testing.T) {
	srv := newDrainedServer(t, 0, false)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, srv.URL, srv.Key, client.WithLogger(logger))
	page, err := c.Leads.List(context.Background(), nil)
	if err != nil {
		t.Fatalf("List after the burst: %v", err)
	}
	if page.StatusCode != 200 {
		t.Errorf("status = %d", page.StatusCode)
	}
	if !strings.Contains(logs.String(), "429 Too Many Requests (Retry-After)") || !strings.Contains(logs.String(), "wait=1s") {
		t.Errorf("logs = %s, want a retry waiting Retry-After 1s", logs.String())
	}
	if strings.Contains(logs.String(), srv.Key) {
		t.Error("logs hold the key")
	}
}

// TestIntegrationProactiveRateLimit: with 2 requests left in the bucket,
// a limited client makes 3 without meeting a 429 (retries are off, so one
// would fail the test).
func TestIntegrationProactiveRateLimit(t *testing.T) {
	srv := newDrainedServer(t, 2, false)
	c := newClient(t, srv.URL, srv.Key, client.WithPlanRateLimit(client.PlanStarter), client.WithRetryPolicy(client.RetryPolicy{}))
	for i := range 3 {
		if _, err := c.Leads.List(context.Background(), nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
}

// faultProxy stands between the client and the reference server and
// breaks the exchanges its plan names: fault(n, r) returns what to do with
// the n-th request.
type faultProxy struct {
	*httptest.Server
	mu       sync.Mutex
	n        int
	received []*http.Request
}

type fault int

const (
	pass              fault = iota
	fail503Before           // answer 503 without forwarding
	lose502After            // forward, then lose the answer behind a proxy's 502 page
	amplifyRetryAfter       // forward, and make a Retry-After say 30
)

func newFaultProxy(t *testing.T, target string, plan func(n int, r *http.Request) fault) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &faultProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.n++
		n := p.n
		p.received = append(p.received, r.Clone(context.Background()))
		p.mu.Unlock()
		switch plan(n, r) {
		case pass:
			rp.ServeHTTP(w, r)
		case fail503Before:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "upstream unavailable")
		case lose502After:
			rp.ServeHTTP(httptest.NewRecorder(), r)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><title>502 Bad Gateway</title></html>")
		case amplifyRetryAfter:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			if w.Header().Get("Retry-After") != "" {
				w.Header().Set("Retry-After", "30")
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *faultProxy) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.received...)
}

func TestIntegrationRetry5xx(t *testing.T) {
	srv := servertest.New(t)
	proxy := newFaultProxy(t, srv.URL, func(n int, _ *http.Request) fault {
		if n <= 2 {
			return fail503Before
		}
		return pass
	})
	c := newClient(t, proxy.URL+"/v1", srv.Key, client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond}))
	if _, err := c.Leads.List(context.Background(), nil); err != nil {
		t.Fatalf("List through two 503s: %v", err)
	}
	if n := len(proxy.requests()); n != 3 {
		t.Errorf("proxy saw %d requests, want 3", n)
	}
}

// TestIntegrationIdempotentReplay: the server creates the lead but its
// answer is lost; the retry carries the same key and gets the first
// answer back, and the account holds one lead.
func TestIntegrationIdempotentReplay(t *testing.T) {
	srv := servertest.New(t)
	proxy := newFaultProxy(t, srv.URL, func(n int, r *http.Request) fault {
		if n == 1 {
			return lose502After
		}
		return pass
	})
	c := newClient(t, proxy.URL+"/v1", srv.Key, client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond}))
	ctx := context.Background()
	lead, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
	if err != nil {
		t.Fatalf("Create through a lost answer: %v", err)
	}
	reqs := proxy.requests()
	if len(reqs) != 2 || reqs[0].Header.Get("Idempotency-Key") == "" || reqs[0].Header.Get("Idempotency-Key") != reqs[1].Header.Get("Idempotency-Key") {
		t.Fatalf("proxy saw %d requests; want 2 with one Idempotency-Key", len(reqs))
	}
	direct := newClient(t, srv.URL, srv.Key)
	page, err := direct.Leads.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Leads) != 1 || page.Leads[0].ID != lead.ID {
		t.Errorf("account holds %d leads, want only %s", len(page.Leads), lead.ID)
	}
}

// TestIntegrationNoRetryWithoutKey: a POST without an Idempotency-Key
// whose answer is lost is not sent again; the caller sees the 502.
func TestIntegrationNoRetryWithoutKey(t *testing.T) {
	srv := servertest.New(t)
	proxy := newFaultProxy(t, srv.URL, func(n int, _ *http.Request) fault {
		if n == 1 {
			return lose502After
		}
		return pass
	})
	c := newClient(t, proxy.URL+"/v1", srv.Key, client.WithAutoIdempotencyKey(false), client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond}))
	_, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("error = %v, want the 502", err)
	}
	reqs := proxy.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Idempotency-Key") != "" {
		t.Errorf("proxy saw %d requests, want 1 without a key", len(reqs))
	}
	page, err := newClient(t, srv.URL, srv.Key).Leads.List(context.Background(), nil)
	if err != nil || len(page.Leads) != 1 {
		t.Errorf("account holds %v leads (%v), want the 1 created", len(page.Leads), err)
	}
}

// TestIntegrationCancelDuringRetryWait: the server's 429 asks for 30s; the
// caller cancels after 50ms and gets its context's error at once.
func TestIntegrationCancelDuringRetryWait(t *testing.T) {
	srv := newDrainedServer(t, 0, true)
	proxy := newFaultProxy(t, srv.URL, func(int, *http.Request) fault { return amplifyRetryAfter })
	c := newClient(t, proxy.URL+"/v1", srv.Key)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Leads.List(ctx, nil)
	if err != context.Canceled {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("returned after %v while Retry-After said 30s", elapsed)
	}
	if n := len(proxy.requests()); n != 1 {
		t.Errorf("proxy saw %d requests, want 1", n)
	}
}

// TestIntegrationPlainHTTPGuard reaches the reference server under a name
// that is not loopback: over plain HTTP the key goes only when allowed.
func TestIntegrationPlainHTTPGuard(t *testing.T) {
	srv := servertest.New(t)
	u, _ := url.Parse(srv.URL)
	addr := u.Host
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
	base := "http://api.axiom.test:8080/v1"
	if _, err := client.New(srv.Key, client.WithBaseURL(base), client.WithHTTPClient(hc)); !errors.Is(err, client.ErrInsecureTransport) {
		t.Fatalf("New over plain HTTP: %v, want ErrInsecureTransport", err)
	}
	if strings.Contains(fmt.Sprint(client.New(srv.Key, client.WithBaseURL(base))), srv.Key) {
		t.Error("the error holds the key")
	}
	c := newClient(t, base, srv.Key, client.WithHTTPClient(hc), client.WithInsecureHTTP())
	if _, err := c.Leads.List(context.Background(), nil); err != nil {
		t.Fatalf("List with WithInsecureHTTP: %v", err)
	}
}

func TestIntegrationAxiomKeyHeader(t *testing.T) {
	srv := servertest.New(t)
	c := newClient(t, srv.URL, srv.Key, client.WithAPIKeyHeader(client.HeaderAxiomAPIKey))
	if _, err := c.Leads.List(context.Background(), nil); err != nil {
		t.Fatalf("List with %s: %v", client.HeaderAxiomAPIKey, err)
	}
}

func TestIntegrationRawClient(t *testing.T) {
	srv := servertest.New(t)
	c := newClient(t, srv.URL, srv.Key)
	res, err := c.Raw().CreateLeadWithResponse(context.Background(), nil, gen.LeadCreate{Name: "Raw", Email: "raw@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.JSON201 == nil || res.Headers201 == nil || res.Headers201.XRateLimitLimit != 60 {
		t.Errorf("raw CreateLead: status %d, %s", res.StatusCode(), res.Body)
	}
}

// waitSent polls a sending campaign until the server's worker has sent it.
func waitSent(t *testing.T, c *client.Client, id string) *client.CampaignResult {
	t.Helper()
	// A guard against a worker that never sends, not a timing assertion.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.Campaigns.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("Get while sending: %v", err)
		}
		if got.Status != gen.CampaignStatusSending {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s still sending after 30s: %+v", id, got.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIntegrationCampaigns(t *testing.T) {
	srv := servertest.New(t, servertest.WithoutRateLimit())
	c := newClient(t, srv.URL, srv.Key)
	ctx := t.Context()
	if page, err := c.Campaigns.List(ctx, nil); err != nil || len(page.Campaigns) != 0 || page.StatusCode != 200 {
		t.Fatalf("List of a new account = %+v, %v; want an empty page", page, err)
	}

	leads := map[string]string{} // email → id
	for i, l := range []struct {
		tags   []string
		status gen.LeadStatus
	}{{[]string{"buyer"}, gen.LeadStatusActive}, {[]string{"buyer", "vip"}, gen.LeadStatusInactive}, {[]string{"seller"}, gen.LeadStatusActive}, {[]string{"buyer"}, gen.LeadStatusUnsubscribed}} {
		email := fmt.Sprintf("lead%d@example.com", i)
		created, err := c.Leads.Create(ctx, gen.LeadCreate{Name: fmt.Sprintf("Lead %d", i), Email: email, Tags: &l.tags, Status: &l.status})
		if err != nil {
			t.Fatal(err)
		}
		leads[email] = created.ID
	}
	tpl, err := c.Templates.Create(ctx, gen.TemplateCreate{Name: "Newsletter", Subject: "News for {{first_name}}", Content: `<p>Hello {{name}}</p>`})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "Nope", Template: "missing-0123abcd"}); !errors.Is(err, client.ErrTemplateNotFound) {
		t.Errorf("Create with an unknown template: %v, want ErrTemplateNotFound", err)
	}
	draft, err := c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "May", Template: tpl.Slug, Audience: &gen.CampaignAudience{Tags: &[]string{"buyer"}}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if draft.Status != gen.CampaignStatusDraft || draft.StatusCode != 201 || draft.ScheduledAt != nil || draft.StartedAt != nil {
		t.Errorf("Create = %+v", draft.Campaign)
	}
	if got, err := c.Campaigns.Get(ctx, draft.ID); err != nil || got.Name != "May" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if got, err := c.Campaigns.Update(ctx, draft.ID, gen.CampaignUpdate{Name: ptr("June")}); err != nil || got.Name != "June" {
		t.Errorf("Update = %+v, %v", got, err)
	}
	if _, err := c.Campaigns.Schedule(ctx, draft.ID, time.Now().Add(-time.Hour)); !errors.Is(err, client.ErrInvalidState) {
		t.Errorf("Schedule in the past: %v, want ErrInvalidState", err)
	}
	for _, at := range []time.Time{time.Now().Add(24 * time.Hour), time.Now().Add(48 * time.Hour)} { // the second moves it
		at = at.Truncate(time.Second).UTC()
		got, err := c.Campaigns.Schedule(ctx, draft.ID, at)
		if err != nil || got.StatusCode != 200 || got.Status != gen.CampaignStatusScheduled || got.ScheduledAt == nil || !got.ScheduledAt.Equal(at) {
			t.Errorf("Schedule(%s) = %+v, %v", at, got, err)
		}
	}

	sent, err := c.Campaigns.Send(ctx, draft.ID)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sent.StatusCode != 202 || sent.Status != gen.CampaignStatusSending || sent.StartedAt == nil || sent.Counts.Recipients != 2 {
		t.Errorf("Send = %d %+v, want 202 sending to the two subscribed buyers", sent.StatusCode, sent.Campaign)
	}
	if _, err := c.Campaigns.Update(ctx, draft.ID, gen.CampaignUpdate{Name: ptr("Too late")}); !errors.Is(err, client.ErrInvalidState) {
		t.Errorf("Update after Send: %v, want ErrInvalidState", err)
	}
	done := waitSent(t, c, draft.ID)
	if done.Status != gen.CampaignStatusSent || done.CompletedAt == nil || done.Counts.Recipients != 2 || done.Counts.Sent != 2 || done.Counts.Failed != 0 {
		t.Errorf("after sending: %+v, want sent, 2 of 2", done.Campaign)
	}
	for name, call := range map[string]func() error{
		"Send":     func() error { _, err := c.Campaigns.Send(ctx, draft.ID); return err },
		"Schedule": func() error { _, err := c.Campaigns.Schedule(ctx, draft.ID, time.Now().Add(time.Hour)); return err },
		"Cancel":   func() error { _, err := c.Campaigns.Cancel(ctx, draft.ID); return err },
	} {
		if err := call(); !errors.Is(err, client.ErrInvalidState) {
			t.Errorf("%s of a sent campaign: %v, want ErrInvalidState", name, err)
		}
	}

	// A page of one, so that AllMessages has to turn the page.
	var recipients, leftOut []string
	var pixel string
	for m, err := range c.Campaigns.AllMessages(ctx, draft.ID, &gen.ListCampaignMessagesParams{Limit: ptr(1)}) {
		if err != nil {
			t.Fatalf("AllMessages: %v", err)
		}
		if m.Status == gen.CampaignMessageStatusSuppressed {
			// The unsubscribed buyer: recorded left out, never sent.
			if m.SentAt != nil || m.Error == "" || m.HTML != nil {
				t.Errorf("the record of a lead left out = %+v", m)
			}
			leftOut = append(leftOut, m.To)
			continue
		}
		recipients = append(recipients, m.To)
		full, err := c.Campaigns.Message(ctx, draft.ID, m.ID)
		if err != nil || m.LeadID != leads[m.To] || m.Status != gen.CampaignMessageStatusSent || m.SentAt == nil || !strings.HasPrefix(m.Subject, "News for Lead") ||
			m.HTML != nil || full.HTML == nil || !strings.Contains(*full.HTML, "Hello Lead") || !strings.Contains(*full.Text, "Hello Lead") ||
			!strings.Contains(*full.HTML, srv.PublicURL+"/t/o/REDACTED") {
			t.Errorf("message to %s = %+v; with its body %+v, %v", m.To, m, full, err)
		}
		if pixel == "" {
			// The live token is the recipient's: read behind the API.
			live, err := srv.Store.GetMessage(ctx, srv.AccountID, draft.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			pixel = srv.PublicURL + "/t/o/" + live.OpenToken
		}
	}
	if strings.Join(recipients, ",") != "lead0@example.com,lead1@example.com" || strings.Join(leftOut, ",") != "lead3@example.com" {
		t.Errorf("messages to %v, and %v left out; want the two subscribed buyers, oldest first, and the unsubscribed one left out", recipients, leftOut)
	}
	first, err := c.Campaigns.Messages(ctx, draft.ID, &gen.ListCampaignMessagesParams{Limit: ptr(1)})
	if err != nil || len(first.Messages) != 1 || !first.HasMore || first.Messages[0].To != "lead0@example.com" {
		t.Fatalf("Messages page 1 of 1 = %+v, %v", first, err)
	}
	second, err := c.Campaigns.Messages(ctx, draft.ID, &gen.ListCampaignMessagesParams{Page: ptr(2), Limit: ptr(1)})
	if err != nil || len(second.Messages) != 1 || !second.HasMore || second.Messages[0].To != "lead1@example.com" {
		t.Errorf("Messages page 2 of 1 = %+v, %v", second, err)
	}
	third, err := c.Campaigns.Messages(ctx, draft.ID, &gen.ListCampaignMessagesParams{Page: ptr(3), Limit: ptr(1)})
	if err != nil || len(third.Messages) != 1 || third.HasMore || third.Messages[0].Status != gen.CampaignMessageStatusSuppressed {
		t.Errorf("Messages page 3 of 1 = %+v, %v", third, err)
	}

	stats, err := c.Campaigns.Stats(ctx, draft.ID)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if want := (gen.CampaignStats{Recipients: 2, Sent: 2, Suppressed: 1}); stats.CampaignStats != want || stats.StatusCode != 200 {
		t.Errorf("Stats = %+v, want %+v", stats.CampaignStats, want)
	}
	// Loading a message's pixel, as a mail client would, is counted.
	if pixel == "" {
		t.Fatal("no message holds an open-tracking pixel")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pixel, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if stats, err := c.Campaigns.Stats(ctx, draft.ID); err != nil || resp.StatusCode != 200 || stats.Opens != 1 || stats.UniqueOpens != 1 {
		t.Errorf("after a pixel load (%d): Stats = %+v, %v; want 1 open", resp.StatusCode, stats, err)
	}

	other, err := c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "Spare", Template: tpl.Slug, Audience: &gen.CampaignAudience{Tags: &[]string{"seller"}}})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := c.Campaigns.Cancel(ctx, other.ID)
	if err != nil || cancelled.StatusCode != 200 || cancelled.Status != gen.CampaignStatusCancelled || cancelled.CompletedAt == nil {
		t.Errorf("Cancel = %+v, %v", cancelled, err)
	}
	if _, err := c.Campaigns.Cancel(ctx, other.ID); !errors.Is(err, client.ErrInvalidState) {
		t.Errorf("second Cancel: %v, want ErrInvalidState", err)
	}
	if _, err := c.Campaigns.Send(ctx, other.ID); !errors.Is(err, client.ErrInvalidState) {
		t.Errorf("Send of a cancelled campaign: %v, want ErrInvalidState", err)
	}
	if stats, err := c.Campaigns.Stats(ctx, other.ID); err != nil || stats.Recipients != 0 {
		t.Errorf("Stats of a campaign never sent = %+v, %v; want no recipients", stats, err)
	}
	var listed []string
	for cmp, err := range c.Campaigns.All(ctx, &gen.ListCampaignsParams{Limit: ptr(1)}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		listed = append(listed, cmp.ID)
	}
	if !slices.Equal(listed, []string{other.ID, draft.ID}) {
		t.Errorf("All yielded %v, want %v, newest first", listed, []string{other.ID, draft.ID})
	}
	if page, err := c.Campaigns.List(ctx, &gen.ListCampaignsParams{Status: ptr(gen.CampaignStatusSent)}); err != nil || len(page.Campaigns) != 1 || page.Campaigns[0].ID != draft.ID {
		t.Errorf("List of sent campaigns = %+v, %v", page, err)
	}

	// Another account's campaign, or none, is not found by any operation.
	later := time.Now().Add(time.Hour)
	intruder := newClient(t, srv.URL, srv.NewAccountKey(t, axiom.PlanStarter))
	for name, call := range map[string]func(id string) error{
		"Get":      func(id string) error { _, err := intruder.Campaigns.Get(ctx, id); return err },
		"Send":     func(id string) error { _, err := intruder.Campaigns.Send(ctx, id); return err },
		"Schedule": func(id string) error { _, err := intruder.Campaigns.Schedule(ctx, id, later); return err },
		"Cancel":   func(id string) error { _, err := intruder.Campaigns.Cancel(ctx, id); return err },
		"Stats":    func(id string) error { _, err := intruder.Campaigns.Stats(ctx, id); return err },
		"Messages": func(id string) error { _, err := intruder.Campaigns.Messages(ctx, id, nil); return err },
		"Delete":   func(id string) error { _, err := intruder.Campaigns.Delete(ctx, id); return err },
	} {
		for _, id := range []string{draft.ID, "cmp_doesnotexist"} {
			if err := call(id); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("%s(%s) by another account: %v, want ErrNotFound", name, id, err)
			}
		}
	}

	if _, err := c.Campaigns.Delete(ctx, other.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := c.Campaigns.Get(ctx, other.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
}

func TestIntegrationSuppressions(t *testing.T) {
	srv := servertest.New(t, servertest.WithoutRateLimit())
	c := newClient(t, srv.URL, srv.Key)
	ctx := t.Context()
	if page, err := c.Suppressions.List(ctx, nil); err != nil || len(page.Suppressions) != 0 || page.StatusCode != 200 {
		t.Fatalf("List of a new account = %+v, %v; want an empty page", page, err)
	}
	// Addresses whose characters a path must carry: a slash, a plus, a percent.
	emails := []string{"Jane.Doe@Example.com", "a/b@example.com", "c+tag@example.com", "d%e@example.com", "o'brien@example.com"}
	for i, e := range emails {
		reason := []gen.SuppressionReason{gen.SuppressionReasonBounced, gen.SuppressionReasonComplained, gen.SuppressionReasonManual,
			gen.SuppressionReasonUnsubscribed, gen.SuppressionReasonBounced}[i]
		got, err := c.Suppressions.Add(ctx, gen.SuppressionCreate{Email: e, Reason: reason, Detail: ptr("from the provider's webhook")})
		if err != nil || !got.Added || got.StatusCode != 201 || got.Email == nil || *got.Email != e || got.Reason != reason || got.CampaignID != nil ||
			got.Detail != "from the provider's webhook" {
			t.Fatalf("Add(%s) = %+v, %v", e, got, err)
		}
		again, err := c.Suppressions.Add(ctx, gen.SuppressionCreate{Email: strings.ToUpper(e), Reason: gen.SuppressionReasonManual})
		if err != nil || again.Added || again.StatusCode != 200 || !reflect.DeepEqual(again.Suppression, got.Suppression) {
			t.Fatalf("Add(%s) again = %+v, %v; want the first entry, not added", strings.ToUpper(e), again, err)
		}
		if found, err := c.Suppressions.Get(ctx, strings.ToLower(e)); err != nil || !reflect.DeepEqual(found.Suppression, got.Suppression) {
			t.Fatalf("Get(%s) = %+v, %v", strings.ToLower(e), found, err)
		}
	}
	var listed []string
	for s, err := range c.Suppressions.All(ctx, &gen.ListSuppressionsParams{Limit: ptr(2), Sort: ptr(gen.SuppressionSortFieldEmail),
		Order: ptr(gen.ListSuppressionsParamsOrderAsc)}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		listed = append(listed, *s.Email)
	}
	if want := []string{"a/b@example.com", "c+tag@example.com", "d%e@example.com", "Jane.Doe@Example.com", "o'brien@example.com"}; !slices.Equal(listed, want) {
		t.Errorf("All by email = %v; want %v", listed, want)
	}
	bounced, err := c.Suppressions.List(ctx, &gen.ListSuppressionsParams{Reason: ptr(gen.SuppressionReasonBounced)})
	if err != nil || len(bounced.Suppressions) != 2 {
		t.Errorf("List of bounces = %+v, %v; want 2", bounced, err)
	}
	if _, err := c.Suppressions.Add(ctx, gen.SuppressionCreate{Email: "not an address", Reason: gen.SuppressionReasonManual}); !errors.Is(err, client.ErrInvalidParameter) {
		t.Errorf("Add of a bad address: %v, want ErrInvalidParameter", err)
	}
	for _, e := range emails {
		if res, err := c.Suppressions.Remove(ctx, e); err != nil || res.StatusCode != 204 {
			t.Fatalf("Remove(%s) = %+v, %v", e, res, err)
		}
		if _, err := c.Suppressions.Get(ctx, e); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Get(%s) after Remove: %v, want ErrNotFound", e, err)
		}
		if _, err := c.Suppressions.Remove(ctx, e); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Remove(%s) twice: %v, want ErrNotFound", e, err)
		}
	}
	// Another account's list is its own.
	if _, err := c.Suppressions.Add(ctx, gen.SuppressionCreate{Email: emails[0], Reason: gen.SuppressionReasonManual}); err != nil {
		t.Fatal(err)
	}
	other := newClient(t, srv.URL, srv.NewAccountKey(t, axiom.PlanStarter))
	if _, err := other.Suppressions.Get(ctx, emails[0]); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another account's Get: %v, want ErrNotFound", err)
	}
	if page, err := other.Suppressions.List(ctx, nil); err != nil || len(page.Suppressions) != 0 {
		t.Errorf("another account lists %+v, %v", page, err)
	}
}

// Leads.Export, with a read-only key: the lead, no listings or messages
// yet, and its suppression entry once the address is suppressed; a lead
// deleted is not found.
func TestIntegrationLeadExport(t *testing.T) {
	srv := servertest.New(t, servertest.WithoutRateLimit())
	c := newClient(t, srv.URL, srv.Key)
	ro := newClient(t, srv.URL, srv.NewReadOnlyKey(t))
	ctx := t.Context()
	lead, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane Doe", Email: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := ro.Leads.Export(ctx, lead.ID)
	if err != nil || x.StatusCode != 200 || x.Lead.ID != lead.ID || len(x.Properties) != 0 || len(x.Messages) != 0 || x.Suppression.Suppressed {
		t.Fatalf("Export = %+v, %v", x, err)
	}
	if _, err := c.Suppressions.Add(ctx, gen.SuppressionCreate{Email: "JANE@example.com", Reason: gen.SuppressionReasonManual}); err != nil {
		t.Fatal(err)
	}
	if x, err = ro.Leads.Export(ctx, lead.ID); err != nil || !x.Suppression.Suppressed || x.Suppression.Entry == nil ||
		x.Suppression.Entry.Reason != gen.SuppressionReasonManual {
		t.Fatalf("Export of a suppressed lead = %+v, %v", x, err)
	}
	if _, err := c.Leads.Delete(ctx, lead.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Leads.Export(ctx, lead.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Export of a deleted lead: %v; want ErrNotFound", err)
	}
}

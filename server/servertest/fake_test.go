package servertest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/client/validate"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/fixture"
	"github.com/axiomkit/axiom/internal/store/storetest"
	"github.com/axiomkit/axiom/server/fault"
	"github.com/axiomkit/axiom/server/servertest"
)

const (
	example      = "../../docs/fixture.example.yaml"
	demoKey      = "axm_demo0000000000000000000000000000000000"
	demoReadOnly = "axm_demoReadOnly00000000000000000000000000"
	otherKey     = "axm_other000000000000000000000000000000000"
)

// loadValidator loads the embedded description once for all tests.
var loadValidator = sync.OnceValues(validate.New)

// newClient is a client of srv with key, validating every response
// against the spec, so that a faulted answer that broke the contract fails.
func newClient(t *testing.T, srv *servertest.Server, key string, opts ...client.Option) *client.Client {
	t.Helper()
	v, err := loadValidator()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(key, append([]client.Option{client.WithBaseURL(srv.URL), client.WithResponseValidator(v)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSeedFile(t *testing.T) {
	ctx := t.Context()
	srv := servertest.New(t, servertest.WithSeedFile(example))
	c := newClient(t, srv, demoKey)
	page, err := c.Leads.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Leads) != 3 || page.Leads[0].Name != "Unsubscribed Ursula" {
		t.Errorf("the seeded account lists %d leads, newest %q; want 3, Ursula last in the file", len(page.Leads), page.Leads[0].Name)
	}
	if jane, err := c.Leads.Get(ctx, "cnt_jane"); err != nil || jane.Email != "jane.doe@example.com" {
		t.Errorf("Get(cnt_jane) = %v, %v", jane, err)
	}
	camp, err := c.Campaigns.Get(ctx, "cmp_spring")
	if err != nil || camp.Status != gen.CampaignStatusDraft {
		t.Errorf("the seeded campaign: %v, %v", camp, err)
	}
	ro := newClient(t, srv, demoReadOnly)
	if _, err := ro.Leads.Create(ctx, gen.LeadCreate{Name: "X", Email: "x@example.com"}); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("the seeded read-only key wrote: %v", err)
	}
	// The other account sees none of the first's.
	if _, err := newClient(t, srv, otherKey).Leads.Get(ctx, "cnt_jane"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another account read a seeded lead: %v", err)
	}
}

func TestSeedFileRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("accounts:\n  - id: acc_x\n    plan: starter\n    leads:\n      - name: A\n        email: nope\n"), 0o600)
	_, err := servertest.Start(servertest.WithSeedFile(bad))
	if err == nil || !strings.Contains(err.Error(), bad+":6:9: accounts[0].leads[0].email: is invalid: not an email address") {
		t.Errorf("Start = %v; want the file, line, entry and field", err)
	}
}

// Reset brings back exactly the seeded data, while requests run through it.
func TestReset(t *testing.T) {
	ctx := t.Context()
	srv := servertest.New(t, servertest.WithSeedFile(example), servertest.WithoutRateLimit())
	seeded, err := srv.Store.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, demoKey)
	// Readers that must never see the data between two states: the
	// seeded key always works, and a seeded lead no test deletes is there.
	var stop atomic.Bool
	var reads atomic.Int64
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				page, err := c.Leads.List(ctx, &gen.ListLeadsParams{Limit: new(100)})
				if err == nil {
					_, err = c.Leads.Get(ctx, "cnt_john")
				}
				if err == nil && len(page.Leads) < 2 {
					err = fmt.Errorf("a reader saw %d leads; at least 2 of the seed's 3 are always there", len(page.Leads))
				}
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		})
	}
	for i := range 20 {
		// What a test does: create, change, delete, and a new account.
		if _, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "New", Email: fmt.Sprintf("new%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Leads.Update(ctx, "cnt_john", gen.LeadUpdate{Name: new("Changed")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Leads.Delete(ctx, "cnt_jane"); err != nil {
			t.Fatal(err)
		}
		srv.NewAccountKey(t, axiom.PlanEnterprise)
		srv.Reset(t)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no request ran beside the resets")
	}
	after, err := srv.Store.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := storetest.DatasetDiff(after, seeded); diff != "" {
		t.Errorf("after Reset the data is not as seeded: %s", diff)
	}
}

// retries collects the client's retry log lines.
type retries struct {
	mu    sync.Mutex
	lines []string
}

func (r *retries) Enabled(context.Context, slog.Level) bool { return true }
func (r *retries) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *retries) WithGroup(string) slog.Handler            { return r }
func (r *retries) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, "%s=%v ", a.Key, a.Value); return true })
	r.mu.Lock()
	r.lines = append(r.lines, strings.TrimSpace(b.String()))
	r.mu.Unlock()
	return nil
}

func (r *retries) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// state is the rule named name, as the server counts it.
func state(t *testing.T, srv *servertest.Server, name string) fault.State {
	t.Helper()
	for _, st := range srv.Faults.States() {
		if st.Rule.Name == name {
			return st
		}
	}
	t.Fatalf("no rule %q in force", name)
	return fault.State{}
}

// The client's retries honour Retry-After against injected 429s and
// 503s, and the faulted answers conform to the spec (the client validates
// every response).
func TestClientRetriesAgainstFaults(t *testing.T) {
	tests := []struct {
		name       string
		rule       fault.Rule
		wantReason string
	}{
		{"429 with Retry-After", fault.Rule{Name: "r", Operation: "listLeads", Status: 429, Times: 1}, "reason=429 Too Many Requests (Retry-After) wait=1s"},
		{"503 with Retry-After", fault.Rule{Name: "r", Operation: "listLeads", Status: 503, RetryAfter: 1, Times: 2}, "reason=503 Service Unavailable (Retry-After) wait=1s"},
		{"503 without, backing off", fault.Rule{Name: "r", Operation: "listLeads", Status: 503, Times: 1}, "reason=503 Service Unavailable wait="},
		{"500 of a create, retried under its Idempotency-Key", fault.Rule{Name: "r", Operation: "createLead", Status: 500, Times: 1}, "reason=500 Internal Server Error wait="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := servertest.New(t, servertest.WithFaults(tt.rule))
			log := &retries{}
			c := newClient(t, srv, srv.Key, client.WithLogger(slog.New(log)),
				client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 2, BaseDelay: 10 * time.Millisecond}))
			var err error
			if tt.rule.Operation == "createLead" {
				_, err = c.Leads.Create(t.Context(), gen.LeadCreate{Name: "A", Email: "a@example.com"})
			} else {
				_, err = c.Leads.List(t.Context(), nil)
			}
			if err != nil {
				t.Fatalf("the call failed through its retries: %v", err)
			}
			st := state(t, srv, "r")
			if st.Faulted != int64(tt.rule.Times) || st.Matched != int64(tt.rule.Times)+1 {
				t.Errorf("the rule faulted %d of %d requests; want %d of %d", st.Faulted, st.Matched, tt.rule.Times, tt.rule.Times+1)
			}
			lines := log.all()
			if len(lines) != tt.rule.Times {
				t.Fatalf("the client retried %d times; want %d: %q", len(lines), tt.rule.Times, lines)
			}
			for _, l := range lines {
				if !strings.Contains(l, tt.wantReason) {
					t.Errorf("retry %q; want %q", l, tt.wantReason)
				}
			}
		})
	}
}

// Each fault kind, as the typed client sees it with its retries off.
func TestFaultKinds(t *testing.T) {
	srv := servertest.New(t)
	c := newClient(t, srv, srv.Key, client.WithRetryPolicy(client.RetryPolicy{}))
	lead, err := c.Leads.Create(t.Context(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		rule  fault.Rule
		check func(t *testing.T, err error)
	}{
		{"429", fault.Rule{Operation: "getLead", Status: 429, RetryAfter: 7}, func(t *testing.T, err error) {
			var e *client.Error
			if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &e) || e.RetryAfter != 7*time.Second || e.RateLimit.Remaining != 0 || e.RateLimit.Limit != 60 {
				t.Errorf("err = %v; want 429 with Retry-After 7 and an empty Starter bucket", err)
			}
		}},
		{"503", fault.Rule{Operation: "getLead", Status: 503, Message: "Down for maintenance"}, func(t *testing.T, err error) {
			var e *client.Error
			if !errors.Is(err, client.ErrServiceUnavailable) || !errors.As(err, &e) || e.Message != "Down for maintenance" || e.RetryAfter != 0 {
				t.Errorf("err = %v; want 503 service_unavailable with the rule's message", err)
			}
		}},
		{"500", fault.Rule{Operation: "getLead", Status: 500}, func(t *testing.T, err error) {
			var e *client.Error
			if !errors.As(err, &e) || e.StatusCode != 500 || e.Code != axiom.CodeInternal {
				t.Errorf("err = %v; want 500 internal_error", err)
			}
		}},
		{"404 by key id", fault.Rule{KeyID: "key_none", Status: 404}, func(t *testing.T, err error) {
			if err != nil {
				t.Errorf("a rule of another key faulted: %v", err)
			}
		}},
		{"connection closed half-way", fault.Rule{Operation: "getLead", Close: true}, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("err = %v; want the body cut short (unexpected EOF)", err)
			}
		}},
		{"latency past the caller's deadline", fault.Rule{Operation: "getLead", Latency: fault.MaxLatency}, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v; want the caller's deadline", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := srv.Faults.Replace([]fault.Rule{tt.rule}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			_, err := c.Leads.Get(ctx, lead.ID)
			tt.check(t, err)
			// Another operation is left alone.
			srv.Faults.Clear()
			if _, err := c.Leads.List(t.Context(), nil); err != nil {
				t.Errorf("listLeads after the rule: %v", err)
			}
		})
	}
}

// A fault on one operation, of one key, of a fraction, leaves the rest alone.
func TestFaultsPickTheirRequests(t *testing.T) {
	ctx := t.Context()
	srv := servertest.New(t, servertest.WithoutRateLimit())
	other := srv.NewKey(t)
	if _, err := srv.Faults.Replace([]fault.Rule{
		{Name: "half", Operation: "listLeads", Key: srv.Key, Fraction: 0.5, Status: 500},
		{Name: "posts", Method: "POST", Path: "/v1/templates/*", Status: 503},
	}); err != nil {
		t.Fatal(err)
	}
	mine := newClient(t, srv, srv.Key, client.WithRetryPolicy(client.RetryPolicy{}))
	theirs := newClient(t, srv, other, client.WithRetryPolicy(client.RetryPolicy{}))
	failed := 0
	for range 10 {
		if _, err := mine.Leads.List(ctx, nil); err != nil {
			failed++
		}
		if _, err := theirs.Leads.List(ctx, nil); err != nil {
			t.Errorf("the rule of another key faulted: %v", err)
		}
	}
	if failed != 5 {
		t.Errorf("fraction 0.5 faulted %d of 10 requests; want 5", failed)
	}
	for _, call := range []func() error{
		func() error {
			_, err := mine.Leads.Create(ctx, gen.LeadCreate{Name: "A", Email: "a@example.com"})
			return err
		},
		func() error { _, err := mine.Templates.List(ctx, nil); return err },
	} {
		if err := call(); err != nil {
			t.Errorf("an operation no rule names: %v", err)
		}
	}
	if _, err := mine.Templates.Create(ctx, gen.TemplateCreate{Name: "T", Subject: "S", Content: "C"}); !errors.Is(err, client.ErrServiceUnavailable) {
		t.Errorf("POST /v1/templates/add: %v; want the rule's 503", err)
	}
}

// Rules that would break the contract, or do nothing, are refused.
func TestFaultRulesRefused(t *testing.T) {
	for _, r := range []fault.Rule{
		{Operation: "listLeads"},
		{Operation: "nope", Status: 500},
		{Operation: "getLead", Status: 409},
		{Status: 418},
		{Status: 422},
		{Status: 429, Code: axiom.CodeInternal},
		{Status: 500, RetryAfter: 3},
		{Status: 500, Fraction: 1.5},
		{Status: 500, Path: "[", Name: "bad"},
		{Latency: time.Hour},
	} {
		if _, err := servertest.Start(servertest.WithFaults(r)); !errors.Is(err, axiom.ErrInvalidParameter) {
			t.Errorf("rule %+v: Start = %v; want it refused", r, err)
		}
	}
}

// The admin endpoint: its token, fault rules, reset and export.
func TestAdmin(t *testing.T) {
	srv := servertest.New(t, servertest.WithAdmin(), servertest.WithSeedFile(example))
	do := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.AdminURL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, token := range []string{"", "wrong", demoKey} {
		if status, body := do("GET", "/faults", token, ""); status != 401 || !strings.Contains(body, `"unauthorized"`) {
			t.Errorf("token %q: %d %s; want 401", token, status, body)
		}
	}
	tok := srv.AdminToken
	if status, body := do("POST", "/faults", tok, `{"name":"slow","operation":"getLead","latency":"10ms","status":503,"retry_after":2}`); status != 201 ||
		!strings.Contains(body, `"latency":"10ms"`) || !strings.Contains(body, `"faulted":0`) {
		t.Errorf("add: %d %s", status, body)
	}
	for _, bad := range []string{`{"status":418}`, `{"operation":"getLead","status":409}`, `{"latency":"soon"}`, `{"status":500,"colour":"red"}`} {
		if status, body := do("POST", "/faults", tok, bad); status != 400 || !strings.Contains(body, `"invalid_parameter"`) {
			t.Errorf("add %s: %d %s; want 400", bad, status, body)
		}
	}
	c := newClient(t, srv, demoKey, client.WithRetryPolicy(client.RetryPolicy{}))
	if _, err := c.Leads.Get(t.Context(), "cnt_jane"); !errors.Is(err, client.ErrServiceUnavailable) {
		t.Errorf("the rule added through the admin endpoint: %v", err)
	}
	if status, body := do("GET", "/faults", tok, ""); status != 200 || !strings.Contains(body, `"faulted":1`) {
		t.Errorf("list: %d %s", status, body)
	}
	if status, body := do("PUT", "/faults", tok, `{"rules":[{"key":"`+demoKey+`","status":500}]}`); status != 200 ||
		strings.Contains(body, demoKey) || !strings.Contains(body, `"key_hint":"axm_demo"`) {
		t.Errorf("replace: %d %s; want the key shown by its hint only", status, body)
	}
	if status, _ := do("DELETE", "/faults/slow", tok, ""); status != 404 {
		t.Errorf("delete a rule replaced: %d; want 404", status)
	}
	if status, _ := do("DELETE", "/faults/fault-1", tok, ""); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, _ := do("DELETE", "/faults", tok, ""); status != 204 {
		t.Errorf("clear: %d", status)
	}
	// Reset through the endpoint.
	if _, err := c.Leads.Delete(t.Context(), "cnt_jane"); err != nil {
		t.Fatal(err)
	}
	status, body := do("POST", "/reset", tok, "")
	if status != 200 || !strings.Contains(body, `"leads":3`) {
		t.Errorf("reset: %d %s", status, body)
	}
	if _, err := c.Leads.Get(t.Context(), "cnt_jane"); err != nil {
		t.Errorf("a deleted seeded lead after the reset: %v", err)
	}
	if status, body := do("POST", "/reset", tok, `{"rate_limits":true}`); status != 200 {
		t.Errorf("reset with rate limits: %d %s", status, body)
	}
	// The export is a fixture that loads.
	status, body = do("GET", "/fixture", tok, "")
	if status != 200 {
		t.Fatalf("export: %d %s", status, body)
	}
	d, err := fixture.Parse("export.json", []byte(body))
	if err != nil {
		t.Fatalf("the export is not a fixture: %v", err)
	}
	if _, _, leads, _, _ := d.Counts(); leads != 3 {
		t.Errorf("the export has %d leads; want 3", leads)
	}
	if bytes.Contains([]byte(body), []byte(demoKey)) {
		t.Error("the export holds a key's secret")
	}
}

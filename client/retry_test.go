package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// step is one answer of a scripted server.
type step func(w http.ResponseWriter, r *http.Request)

func status500Envelope(w http.ResponseWriter, _ *http.Request) {
	writeError(w, 500, gen.ErrorCodeInternalError, "An internal error occurred")
}

func status503(w http.ResponseWriter, _ *http.Request) {
	writeError(w, 503, gen.ErrorCodeInternalError, "Service unavailable")
}

func html502(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(502)
	w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"))
}

func empty502(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) }

func status501(w http.ResponseWriter, _ *http.Request) {
	writeError(w, 501, gen.ErrorCodeInternalError, "Not implemented")
}

func tooMany(retryAfter string) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		rateHeaders(w, 0)
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeError(w, 429, gen.ErrorCodeRateLimitExceeded, "Rate limit exceeded; retry after "+retryAfter+" seconds")
	}
}

// hangUp closes the connection after reading the request: the request
// reached the server, which never answered.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func okLead(w http.ResponseWriter, r *http.Request) {
	status := 200
	if r.Method == http.MethodPost {
		status = 201
	}
	writeJSON(w, status, gen.LeadEnvelope{Data: sampleLead("cnt_1")})
}

func scripted(steps ...step) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n > len(steps) {
			okLead(w, r)
			return
		}
		steps[n-1](w, r)
	}
}

func TestRetries(t *testing.T) {
	createLead := func(c *Client) error {
		_, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
		return err
	}
	getLead := func(c *Client) error { _, err := c.Leads.Get(context.Background(), "cnt_1"); return err }
	updateLead := func(c *Client) error {
		_, err := c.Leads.Update(context.Background(), "cnt_1", gen.LeadUpdate{Name: ptr("Jo")})
		return err
	}
	deleteLead := func(c *Client) error { _, err := c.Leads.Delete(context.Background(), "cnt_1"); return err }

	tests := []struct {
		name         string
		steps        []step
		opts         []Option
		call         func(*Client) error
		wantRequests int
		wantStatus   int // of the *Error returned; 0 for success
		wantWaits    []time.Duration
	}{
		// A 500 with a valid envelope is retried: the decision is made on
		// the status, before anything parses the body.
		{name: "GET 500 envelope then ok", steps: []step{status500Envelope}, call: getLead, wantRequests: 2},
		{name: "GET 503 twice then ok", steps: []step{status503, status503}, call: getLead, wantRequests: 3},
		{name: "GET HTML 502 then ok", steps: []step{html502}, call: getLead, wantRequests: 2},
		{name: "GET empty 502 then ok", steps: []step{empty502}, call: getLead, wantRequests: 2},
		{name: "GET 500 exhausts 2 retries", steps: []step{status500Envelope, status500Envelope, status500Envelope}, call: getLead, wantRequests: 3, wantStatus: 500},
		{name: "GET 501 is not retried", steps: []step{status501}, call: getLead, wantRequests: 1, wantStatus: 501},
		{name: "GET 404 is not retried", steps: []step{func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, 404, gen.ErrorCodeNotFound, "No such lead")
		}}, call: getLead, wantRequests: 1, wantStatus: 404},
		{name: "DELETE 500 then ok", steps: []step{status500Envelope}, call: deleteLead, wantRequests: 2},
		{name: "GET 429 waits Retry-After seconds", steps: []step{tooMany("2")}, call: getLead, wantRequests: 2, wantWaits: []time.Duration{2 * time.Second}},
		{name: "GET 429 beyond MaxRetryAfter is returned", steps: []step{tooMany("120")}, call: getLead, wantRequests: 1, wantStatus: 429},
		{name: "MaxRetryAfter is an option", steps: []step{tooMany("3")}, call: getLead,
			opts:         []Option{WithRetryPolicy(RetryPolicy{MaxRetries: 2, MaxRetryAfter: 2 * time.Second})},
			wantRequests: 1, wantStatus: 429},
		{name: "POST with automatic key 500 then ok", steps: []step{status500Envelope}, call: createLead, wantRequests: 2},
		{name: "POST with automatic key after hang-up", steps: []step{hangUp}, call: createLead, wantRequests: 2},
		{name: "POST without key 500 is not retried", steps: []step{status500Envelope}, call: createLead,
			opts: []Option{WithAutoIdempotencyKey(false)}, wantRequests: 1, wantStatus: 500},
		{name: "POST without key 429 is retried", steps: []step{tooMany("1")}, call: createLead,
			opts: []Option{WithAutoIdempotencyKey(false)}, wantRequests: 2, wantWaits: []time.Duration{time.Second}},
		{name: "PATCH 503 is not retried", steps: []step{status503}, call: updateLead, wantRequests: 1, wantStatus: 503},
		{name: "PATCH after hang-up is not retried", steps: []step{hangUp}, call: updateLead, wantRequests: 1, wantStatus: -1},
		{name: "GET after hang-up is retried", steps: []step{hangUp}, call: getLead, wantRequests: 2},
		{name: "retries disabled", steps: []step{status503}, call: getLead,
			opts: []Option{WithRetryPolicy(RetryPolicy{})}, wantRequests: 1, wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, scripted(tt.steps...))
			c, sleeps := newTestClient(t, srv, tt.opts...)
			err := tt.call(c)
			if n := len(srv.requests()); n != tt.wantRequests {
				t.Errorf("server got %d requests, want %d", n, tt.wantRequests)
			}
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("call: %v", err)
			case tt.wantStatus > 0:
				var apiErr *Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
					t.Fatalf("call error = %v, want an *Error with status %d", err, tt.wantStatus)
				}
			case tt.wantStatus < 0 && err == nil:
				t.Fatal("call succeeded, want a transport error")
			}
			if tt.wantWaits != nil {
				if got := sleeps.recorded(); !equalDurations(got, tt.wantWaits) {
					t.Errorf("waits = %v, want %v", got, tt.wantWaits)
				}
			}
			if len(sleeps.recorded()) != max(tt.wantRequests-1, 0) && tt.wantStatus == 0 {
				t.Errorf("waited %d times for %d requests", len(sleeps.recorded()), tt.wantRequests)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryAfterHTTPDate(t *testing.T) {
	// The date is written as the answer leaves, as a server would.
	dated := func(w http.ResponseWriter, r *http.Request) {
		tooMany(time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))(w, r)
	}
	srv := newAPIServer(t, scripted(dated))
	c, sleeps := newTestClient(t, srv)
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	waits := sleeps.recorded()
	// The date has a one-second resolution, and a busy machine may take a
	// while between writing and reading it: the wait is at most 3s and
	// well above the 1s a client ignoring the date would default to.
	if len(waits) != 1 || waits[0] <= time.Second || waits[0] > 3*time.Second {
		t.Errorf("waits = %v, want one of (1s, 3s]", waits)
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	srv := newAPIServer(t, scripted(status503, status503, status503, status503))
	policy := RetryPolicy{MaxRetries: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}
	c, sleeps := newTestClient(t, srv, WithRetryPolicy(policy))
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	ceilings := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
	waits := sleeps.recorded()
	if len(waits) != len(ceilings) {
		t.Fatalf("waits = %v, want %d", waits, len(ceilings))
	}
	for i, w := range waits {
		if w < 0 || w > ceilings[i] {
			t.Errorf("wait %d = %v, want within [0, %v]", i, w, ceilings[i])
		}
	}
}

func TestSameIdempotencyKeyOnEveryAttempt(t *testing.T) {
	srv := newAPIServer(t, scripted(status500Envelope, hangUp))
	c, _ := newTestClient(t, srv)
	if _, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("server got %d requests, want 3", len(reqs))
	}
	key := reqs[0].Header.Get("Idempotency-Key")
	if key == "" {
		t.Fatal("no Idempotency-Key on the first attempt")
	}
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != key {
			t.Errorf("attempt %d: Idempotency-Key = %q, want %q", i+1, got, key)
		}
		if string(r.Body) != string(reqs[0].Body) {
			t.Errorf("attempt %d: body = %s, want %s", i+1, r.Body, reqs[0].Body)
		}
	}

	// A second create gets a key of its own.
	if _, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"}); err != nil {
		t.Fatal(err)
	}
	reqs = srv.requests()
	if got := reqs[len(reqs)-1].Header.Get("Idempotency-Key"); got == key || got == "" {
		t.Errorf("second create: Idempotency-Key = %q, want a new one", got)
	}
}

func TestCallerIdempotencyKey(t *testing.T) {
	srv := newAPIServer(t, scripted(status503))
	c, _ := newTestClient(t, srv, WithAutoIdempotencyKey(false))
	if _, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"}, IdempotencyKey("import-42-row-7")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2 (a keyed POST is retried)", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != "import-42-row-7" {
			t.Errorf("Idempotency-Key = %q", got)
		}
	}
	if _, err := c.Leads.Create(context.Background(), gen.LeadCreate{Name: "J", Email: "j@example.com"}, IdempotencyKey("has space")); err == nil {
		t.Error("a key with a space was accepted")
	}
}

func TestPOSTRetriedWhenNothingWasSent(t *testing.T) {
	// A port nothing listens on: the dial fails, so the request provably
	// never reached a server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	rec := &sleepRecorder{}
	logs := &logBuffer{}
	c, err := New(testKey, WithBaseURL("http://"+addr+"/v1"), WithAutoIdempotencyKey(false), withSleep(rec.sleep), WithLogger(logs.logger()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Leads.Create(context.Background(), gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
	if err == nil {
		t.Fatal("Create succeeded against a closed port")
	}
	if n := len(rec.recorded()); n != 2 {
		t.Errorf("waited %d times, want 2 (two retries of a POST that never left)", n)
	}
	if !strings.Contains(logs.String(), "reason=\"network error") {
		t.Errorf("logs = %s, want retries with a network error reason", logs)
	}
}

func TestRetriesAreLogged(t *testing.T) {
	srv := newAPIServer(t, scripted(tooMany("1"), status500Envelope))
	logs := &logBuffer{}
	c, _ := newTestClient(t, srv, WithLogger(logs.logger()))
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"level=DEBUG", "429 Too Many Requests (Retry-After)", "500 Internal Server Error", "attempt=1", "attempt=2", "path=/v1/leads/cnt_1", "request_id=req_01"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testKey) {
		t.Errorf("logs hold the key:\n%s", out)
	}
}

// TestCancelDuringRetryWait uses real waits: the server asks for 30s and
// the caller gives up after 50ms.
func TestCancelDuringRetryWait(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tooMany("30")(w, r) })
	c, err := New(testKey, WithBaseURL(srv.baseURL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Leads.Get(ctx, "cnt_1")
	elapsed := time.Since(start)
	if err != context.Canceled {
		t.Errorf("error = %v, want context.Canceled itself", err)
	}
	if elapsed > time.Second {
		t.Errorf("returned after %v, want well under the 30s Retry-After", elapsed)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

// TestDeadlineShorterThanWait: when the context's deadline comes before
// the retry would, the server's answer is returned at once instead of a
// context.DeadlineExceeded after a useless wait.
func TestDeadlineShorterThanWait(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tooMany("30")(w, r) })
	c, sleeps := newTestClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Leads.Get(ctx, "cnt_1")
	var apiErr *Error
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != 30*time.Second {
		t.Errorf("error = %v, want ErrRateLimited with Retry-After 30s", err)
	}
	if n := len(sleeps.recorded()); n != 0 {
		t.Errorf("waited %d times", n)
	}
}

func TestRetryPolicyValidation(t *testing.T) {
	for _, p := range []RetryPolicy{{MaxRetries: -1}, {BaseDelay: -time.Second}, {MaxRetryAfter: -1}} {
		if _, err := New(testKey, WithRetryPolicy(p)); err == nil {
			t.Errorf("WithRetryPolicy(%+v) accepted", p)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 5, 19, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"Mon, 19 May 2025 12:00:07 GMT", 7 * time.Second, true},
		{"Mon, 19 May 2025 11:59:00 GMT", 0, true},
		{"Monday, 19-May-25 12:00:02 GMT", 2 * time.Second, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestReplayable(t *testing.T) {
	tests := []struct {
		method, key string
		want        bool
	}{
		{"GET", "", true}, {"PUT", "", true}, {"DELETE", "", true},
		{"POST", "", false}, {"PATCH", "", false},
		{"POST", "k1", true}, {"PATCH", "k1", true},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://127.0.0.1/v1/leads", nil)
		if tt.key != "" {
			req.Header.Set("Idempotency-Key", tt.key)
		}
		if got := replayable(req); got != tt.want {
			t.Errorf("replayable(%s, key %q) = %v, want %v", tt.method, tt.key, got, tt.want)
		}
	}
}

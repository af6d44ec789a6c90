package client

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom/client/validate"
	"github.com/axiomkit/axiom/gen"
)

const testKey = "sk_test_5up3rS3cr3tK3y"

// loadValidator loads the embedded description once for all tests.
var loadValidator = sync.OnceValues(validate.New)

// withValidation checks every response against openapi.yaml.
func withValidation(tb testing.TB) Option {
	tb.Helper()
	v, err := loadValidator()
	if err != nil {
		tb.Fatalf("validate.New: %v", err)
	}
	return WithResponseValidator(v)
}

// sleepRecorder replaces the client's waits: it records each one and
// returns at once (or with the context's error).
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func withSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *config) error { c.sleep = f; return nil }
}

// recorded is one request a test server received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// apiServer is a listening test server answering with handler, in turn,
// and remembering every request.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newAPIServer(t testing.TB, handler func(w http.ResponseWriter, r *http.Request, n int)) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body.Bytes()})
		n := len(s.reqs)
		s.mu.Unlock()
		handler(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *apiServer) baseURL() string { return s.URL + "/v1" }

// newTestClient is a client of srv whose waits are recorded, not slept.
func newTestClient(t testing.TB, srv *apiServer, opts ...Option) (*Client, *sleepRecorder) {
	t.Helper()
	rec := &sleepRecorder{}
	all := append([]Option{WithBaseURL(srv.baseURL()), withSleep(rec.sleep)}, opts...)
	c, err := New(testKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// rateHeaders sets the headers every authenticated answer carries.
func rateHeaders(w http.ResponseWriter, remaining int) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	h.Set("X-Request-Id", "req_01")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("X-RateLimit-Limit") == "" {
		rateHeaders(w, 98)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code gen.ErrorCode, message string) {
	writeJSON(w, status, gen.Error{Error: gen.ErrorDetail{
		Code:             code,
		Message:          message,
		DocumentationURL: "https://api.axiom-console.com/docs/errors#" + string(code),
	}})
}

func sampleLead(id string) gen.Lead {
	ts := time.Date(2025, 4, 1, 8, 15, 30, 0, time.UTC)
	return gen.Lead{
		ID: id, Name: "Jane Doe", Email: "jane.doe@example.com", Phone: "+11235550199",
		Company: "", Type: gen.LeadTypeLead, Status: gen.LeadStatusActive, Source: "API",
		Tags: []string{}, Notes: []string{"seller"}, CustomFields: gen.CustomFields{},
		CreatedAt: ts, UpdatedAt: ts,
	}
}

func sampleTemplate(slug string) gen.Template {
	ts := time.Date(2025, 4, 1, 8, 15, 30, 0, time.UTC)
	return gen.Template{Slug: slug, Name: "From API", Subject: "Hello", Content: "<p>Hi</p>", CreatedAt: ts, UpdatedAt: ts}
}

// logBuffer is a debug-level logger writing into a buffer.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func sampleCampaign(id string, status gen.CampaignStatus) gen.Campaign {
	ts := time.Date(2026, 5, 28, 10, 0, 0, 0, time.UTC)
	return gen.Campaign{
		ID: id, Name: "May newsletter", Template: "from-api-1612d101",
		Audience: gen.CampaignAudience{Tags: &[]string{"buyer"}},
		Status:   status, Counts: gen.CampaignCounts{Recipients: 2, Sent: 1},
		CreatedAt: ts, UpdatedAt: ts,
	}
}

package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	for _, tt := range []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	} {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %d) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

// recorder is a server keeping the bodies it received.
type recorder struct {
	mu     sync.Mutex
	bodies map[string]int
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.bodies[string(b)]++
	rec.mu.Unlock()
	switch r.URL.Path {
	case "/fail":
		w.WriteHeader(http.StatusInternalServerError)
	case "/close":
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, strings.Repeat("x", 5000))
	}
}

func newRecorder(t *testing.T) (*recorder, string) {
	rec := &recorder{bodies: map[string]int{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, strings.TrimPrefix(srv.URL, "http://")
}

func TestRun(t *testing.T) {
	body := func(seq uint64) []byte { return fmt.Appendf(nil, `{"n":%d}`, seq) }
	for _, tt := range []struct {
		name     string
		path     string
		requests int64
		ok       int64
		failed   int64
		failure  string
	}{
		{"keep-alive", "/ok", 300, 300, 0, ""},
		{"server closes every connection", "/close", 60, 60, 0, ""},
		{"wrong status", "/fail", 40, 0, 40, "status 500, want 201"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := newRecorder(t)
			req := Build("POST", addr, tt.path, http.Header{"Content-Type": {"application/json"}}, body)
			res, err := Run(context.Background(), Options{Addr: addr, Concurrency: 4, Requests: tt.requests, Status: 201}, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || res.Failed != tt.failed || res.FirstFailure != tt.failure {
				t.Fatalf("ok %d, failed %d, first failure %q; want %d, %d, %q", res.OK, res.Failed, res.FirstFailure, tt.ok, tt.failed, tt.failure)
			}
			if len(rec.bodies) != int(tt.requests) {
				t.Errorf("%d distinct bodies received, want one per request (%d)", len(rec.bodies), tt.requests)
			}
			if tt.ok > 0 && (res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max || res.Rate() <= 0) {
				t.Errorf("p50 %v, p99 %v, max %v, rate %v: not ordered or not measured", res.P50, res.P99, res.Max, res.Rate())
			}
		})
	}
}

func TestRunStopsAtItsDuration(t *testing.T) {
	_, addr := newRecorder(t)
	req := Build("GET", addr, "/ok", nil, nil)
	res, err := Run(context.Background(), Options{Addr: addr, Concurrency: 2, Duration: 100 * time.Millisecond, Status: 201}, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Failed != 0 {
		t.Fatalf("ok %d, failed %d (%s)", res.OK, res.Failed, res.FirstFailure)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	rec, addr := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelled once the run is under way, however slow the machine.
	go func() {
		defer cancel()
		for {
			rec.mu.Lock()
			n := len(rec.bodies)
			rec.mu.Unlock()
			if n > 0 {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	// No bound but the context: Run must still return.
	res, err := Run(ctx, Options{Addr: addr, Concurrency: 2, Duration: time.Hour, Status: 201}, Build("GET", addr, "/ok", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 {
		t.Fatalf("%d failed after cancellation (%s)", res.Failed, res.FirstFailure)
	}
}

func TestRunRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	req := Build("GET", closed, "/", nil, nil)
	if _, err := Run(context.Background(), Options{Addr: closed, Requests: 1}, req); err == nil {
		t.Error("no error for a server that does not listen")
	}
	if _, err := Run(context.Background(), Options{Addr: closed}, req); err == nil {
		t.Error("no error without a bound")
	}
}

func TestBuild(t *testing.T) {
	req := Build("POST", "h:1", "/v1/leads/add", http.Header{"X-Api-Key": {"k"}}, func(seq uint64) []byte { return fmt.Appendf(nil, "b%d", seq) })
	got := string(req(nil, 12))
	want := "POST /v1/leads/add HTTP/1.1\r\nHost: h:1\r\nX-Api-Key: k\r\nContent-Length: 3\r\n\r\nb12"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := string(Build("GET", "h:1", "/v1/leads?limit=20", nil, nil)(nil, 0)); got != "GET /v1/leads?limit=20 HTTP/1.1\r\nHost: h:1\r\n\r\n" {
		t.Errorf("GET: %q", got)
	}
}

package client

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/axiomkit/axiom/gen"
)

// bucketServer enforces a token bucket the way the API does, answering
// 429 with Retry-After when it is empty, and counts its 429s.
func bucketServer(t *testing.T, perMinute, burst int) (*apiServer, *rate.Limiter, func() int) {
	t.Helper()
	bucket := rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)
	var rejected int
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		allowed := bucket.Allow()
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(perMinute))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(int(math.Floor(bucket.Tokens())), 0)))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
		if !allowed {
			rejected++
			h.Set("Retry-After", "1")
			writeError(w, 429, gen.ErrorCodeRateLimitExceeded, "Rate limit exceeded")
			return
		}
		okLead(w, r)
	})
	return srv, bucket, func() int { srv.mu.Lock(); defer srv.mu.Unlock(); return rejected }
}

// TestProactiveRateLimit sends more requests than the burst: with the
// limiter on, none is refused.
func TestProactiveRateLimit(t *testing.T) {
	const perMinute, burst = 1200, 3 // one request every 50ms
	srv, _, rejected := bucketServer(t, perMinute, burst)
	c, _ := newTestClient(t, srv, WithRateLimit(perMinute, burst), WithRetryPolicy(RetryPolicy{}))
	for i := range 8 {
		if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n := rejected(); n != 0 {
		t.Errorf("server refused %d requests", n)
	}
}

// TestProactiveRateLimitFollowsServer: another client has used most of
// the account's bucket; the limiter learns it from X-RateLimit-Remaining.
func TestProactiveRateLimitFollowsServer(t *testing.T) {
	const perMinute, burst = 1200, 3
	srv, bucket, rejected := bucketServer(t, perMinute, burst)
	bucket.AllowN(time.Now(), 2) // spent elsewhere
	c, _ := newTestClient(t, srv, WithRateLimit(perMinute, burst), WithRetryPolicy(RetryPolicy{}))
	for i := range 5 {
		if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n := rejected(); n != 0 {
		t.Errorf("server refused %d requests", n)
	}
}

// TestWithoutProactiveLimit shows the same load meeting 429s, which the
// retries then absorb by waiting Retry-After.
func TestWithoutProactiveLimit(t *testing.T) {
	srv, _, rejected := bucketServer(t, 60, 3)
	c, sleeps := newTestClient(t, srv)
	for i := range 4 {
		if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil && i < 3 {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if rejected() == 0 || len(sleeps.recorded()) == 0 {
		t.Errorf("no 429 without the limiter (rejected %d, waits %v)", rejected(), sleeps.recorded())
	}
}

func TestRateLimitCancelled(t *testing.T) {
	srv, _, _ := bucketServer(t, 60, 1)
	c, _ := newTestClient(t, srv, WithRateLimit(1, 1)) // one request a minute
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Leads.Get(ctx, "cnt_1")
	if err != context.Canceled {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("returned after %v", elapsed)
	}

	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.Leads.Get(ctx, "cnt_1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded at once", err)
	}
}

func TestPlanRateLimit(t *testing.T) {
	tests := []struct {
		plan      Plan
		perSecond float64
		burst     int
	}{
		{PlanStarter, 1, 100},
		{PlanProfessional, 2, 200},
		{PlanEnterprise, 5, 500},
	}
	for _, tt := range tests {
		c, err := New(testKey, WithPlanRateLimit(tt.plan))
		if err != nil {
			t.Fatal(err)
		}
		l := c.raw.ClientInterface.(*gen.Client).Client.(*doer).limiter.l
		if float64(l.Limit()) != tt.perSecond || l.Burst() != tt.burst {
			t.Errorf("%s: limiter %v/s burst %d, want %v/s burst %d", tt.plan, l.Limit(), l.Burst(), tt.perSecond, tt.burst)
		}
	}
	if _, err := New(testKey, WithPlanRateLimit("platinum")); err == nil {
		t.Error("unknown plan accepted")
	}
	if _, err := New(testKey, WithRateLimit(0, 10)); err == nil {
		t.Error("zero rate accepted")
	}
}

func TestParseRateLimit(t *testing.T) {
	h := http.Header{}
	if _, ok := parseRateLimit(h); ok {
		t.Error("no headers parsed as a rate limit")
	}
	h.Set("X-RateLimit-Limit", "300")
	h.Set("X-RateLimit-Remaining", "499")
	h.Set("X-RateLimit-Reset", "1603123456")
	rl, ok := parseRateLimit(h)
	if !ok || rl.Limit != 300 || rl.Remaining != 499 || !rl.Reset.Equal(time.Unix(1603123456, 0)) {
		t.Errorf("parseRateLimit = %+v, %v", rl, ok)
	}
	h.Set("X-RateLimit-Remaining", "lots")
	if _, ok := parseRateLimit(h); ok {
		t.Error("malformed Remaining accepted")
	}
}

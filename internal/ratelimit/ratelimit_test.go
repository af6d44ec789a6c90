package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/ratelimit/limitertest"
)

func TestMemory(t *testing.T) {
	limitertest.Run(t, func(t *testing.T) ratelimit.Limiter { return ratelimit.NewMemory() })
}

func TestMemoryClock(t *testing.T) {
	limitertest.RunClock(t, func(t *testing.T, clock func() time.Time) ratelimit.Limiter {
		return ratelimit.NewMemory(ratelimit.WithClock(clock))
	})
}

func TestPlanLimit(t *testing.T) {
	tests := []struct {
		plan     axiom.Plan
		want     ratelimit.Limit
		interval time.Duration
	}{
		{axiom.PlanStarter, ratelimit.Limit{Rate: 60, Burst: 100}, time.Second},
		{axiom.PlanProfessional, ratelimit.Limit{Rate: 120, Burst: 200}, 500 * time.Millisecond},
		{axiom.PlanEnterprise, ratelimit.Limit{Rate: 300, Burst: 500}, 200 * time.Millisecond},
		{"", ratelimit.Limit{Rate: 60, Burst: 100}, time.Second},
		{"platinum", ratelimit.Limit{Rate: 60, Burst: 100}, time.Second},
	}
	for _, tt := range tests {
		got := ratelimit.PlanLimit(tt.plan)
		if got != tt.want || got.Interval() != tt.interval {
			t.Errorf("PlanLimit(%q) = %+v every %v, want %+v every %v", tt.plan, got, got.Interval(), tt.want, tt.interval)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("PlanLimit(%q).Validate() = %v", tt.plan, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		l     ratelimit.Limit
		valid bool
	}{
		{ratelimit.Limit{Rate: 1, Burst: 1}, true},
		{ratelimit.Limit{Rate: int(time.Minute), Burst: 1}, true}, // one per nanosecond
		{ratelimit.Limit{Rate: int(time.Minute) + 1, Burst: 1}, false},
		{ratelimit.Limit{Rate: 0, Burst: 1}, false},
		{ratelimit.Limit{Rate: -60, Burst: 1}, false},
		{ratelimit.Limit{Rate: 60, Burst: 0}, false},
		{ratelimit.Limit{Rate: 60, Burst: -1}, false},
		{ratelimit.Limit{Rate: 1, Burst: 1 << 40}, false}, // tolerance would overflow
		{ratelimit.Limit{}, false},
	}
	for _, tt := range tests {
		err := tt.l.Validate()
		if (err == nil) != tt.valid || (err != nil && !errors.Is(err, ratelimit.ErrInvalidLimit)) {
			t.Errorf("%+v.Validate() = %v, want valid %v", tt.l, err, tt.valid)
		}
		if _, err := ratelimit.NewMemory().Allow(context.Background(), "k", tt.l); (err == nil) != tt.valid {
			t.Errorf("Allow under %+v: %v, want valid %v", tt.l, err, tt.valid)
		}
		if _, _, err := ratelimit.GCRA(0, time.Now(), tt.l); (err == nil) != tt.valid {
			t.Errorf("GCRA under %+v: %v, want valid %v", tt.l, err, tt.valid)
		}
	}
}

func TestResultHeaders(t *testing.T) {
	sec := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name       string
		r          ratelimit.Result
		reset      int64
		retryAfter int64
	}{
		{"allowed, reset on a second", ratelimit.Result{Allowed: true, ResetAt: sec}, 1_700_000_000, 0},
		{"allowed, reset 1ns past a second", ratelimit.Result{Allowed: true, ResetAt: sec.Add(1)}, 1_700_000_001, 0},
		{"allowed, reset 1ns before a second", ratelimit.Result{Allowed: true, ResetAt: sec.Add(-1)}, 1_700_000_000, 0},
		{"denied 1ns", ratelimit.Result{ResetAt: sec, RetryAfter: 1}, 1_700_000_000, 1},
		{"denied 1s", ratelimit.Result{ResetAt: sec, RetryAfter: time.Second}, 1_700_000_000, 1},
		{"denied 1s+1ns", ratelimit.Result{ResetAt: sec, RetryAfter: time.Second + 1}, 1_700_000_000, 2},
		{"denied 0, still at least 1", ratelimit.Result{ResetAt: sec}, 1_700_000_000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.ResetUnix(); got != tt.reset {
				t.Errorf("ResetUnix() = %d, want %d", got, tt.reset)
			}
			if got := tt.r.RetryAfterSeconds(); got != tt.retryAfter {
				t.Errorf("RetryAfterSeconds() = %d, want %d", got, tt.retryAfter)
			}
			// A Retry-After set by another reason (a busy Idempotency-Key)
			// stays when the request was admitted.
			h := http.Header{"Retry-After": {"other"}}
			tt.r.Limit, tt.r.Remaining = 60, 7
			tt.r.SetHeaders(h)
			want := http.Header{
				"X-Ratelimit-Limit":     {"60"},
				"X-Ratelimit-Remaining": {"7"},
				"X-Ratelimit-Reset":     {strconv.FormatInt(tt.reset, 10)},
				"Retry-After":           {"other"},
			}
			if !tt.r.Allowed {
				want["Retry-After"] = []string{strconv.FormatInt(tt.retryAfter, 10)}
			}
			if len(h) != len(want) {
				t.Errorf("headers %v, want %v", h, want)
			}
			for k, v := range want {
				if h.Get(k) != v[0] {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), v[0])
				}
			}
		})
	}
}

func TestUnlimited(t *testing.T) {
	clock := limitertest.NewClock(time.Date(2025, 5, 19, 12, 0, 0, 500, time.UTC))
	u := ratelimit.NewUnlimited(ratelimit.WithClock(clock.Now))
	for _, p := range []axiom.Plan{axiom.PlanStarter, axiom.PlanEnterprise} {
		l := ratelimit.PlanLimit(p)
		for i := range 2 * l.Burst {
			r, err := u.Allow(context.Background(), "acct", l)
			if err != nil {
				t.Fatal(err)
			}
			want := ratelimit.Result{Allowed: true, Limit: l.Rate, Remaining: l.Burst - 1,
				ResetAt: clock.Now().Add(l.Interval()), At: clock.Now()}
			if r != want {
				t.Fatalf("%s request %d: %+v, want %+v", p, i+1, r, want)
			}
		}
	}
	// Whatever the limit, even one Validate rejects: Unlimited never fails.
	r, err := ratelimit.Unlimited{}.Allow(context.Background(), "acct", ratelimit.Limit{})
	if err != nil || !r.Allowed || r.Remaining != 0 || r.RetryAfterSeconds() != 0 || r.At.IsZero() {
		t.Errorf("zero Unlimited under a zero limit: %+v, %v", r, err)
	}
}

// TestGCRAFreshEqualsZero checks that a TAT at or before now is a full bucket,
// the same as a key never seen: what makes dropping such buckets lossless.
func TestGCRAFreshEqualsZero(t *testing.T) {
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	now := time.Unix(1_700_000_000, 42)
	_, fresh, _ := ratelimit.GCRA(0, now, l)
	for _, tat := range []int64{now.UnixNano(), now.UnixNano() - 1, now.UnixNano() - int64(time.Hour)} {
		next, r, err := ratelimit.GCRA(tat, now, l)
		if err != nil || r != fresh || next != now.Add(l.Interval()).UnixNano() {
			t.Errorf("TAT %d at %d: %+v (next %d), want %+v", tat, now.UnixNano(), r, next, fresh)
		}
	}
	// One nanosecond of debt is not full: it costs one Remaining.
	if _, r, _ := ratelimit.GCRA(now.UnixNano()+1, now, l); r.Remaining != l.Burst-2 {
		t.Errorf("TAT 1ns ahead: Remaining %d, want %d", r.Remaining, l.Burst-2)
	}
}

func TestMemoryClockBackwards(t *testing.T) {
	clock := limitertest.NewClock(time.Unix(1_700_000_000, 0))
	m := ratelimit.NewMemory(ratelimit.WithClock(clock.Now))
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	for range l.Burst {
		if _, err := m.Allow(context.Background(), "acct", l); err != nil {
			t.Fatal(err)
		}
	}
	// A wall clock stepped back must not refill the bucket.
	clock.Advance(-time.Hour)
	r, err := m.Allow(context.Background(), "acct", l)
	if err != nil || r.Allowed || r.RetryAfter != time.Hour+l.Interval() {
		t.Errorf("an hour back after draining: %+v, %v; want denied for an hour and an interval", r, err)
	}
	if n := m.Sweep(); n != 0 || m.Len() != 1 {
		t.Errorf("an hour back: Sweep dropped %d, Len %d; want 0, 1", n, m.Len())
	}
}

func TestMemorySweepManyKeys(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	clock := limitertest.NewClock(t0)
	m := ratelimit.NewMemory(ratelimit.WithClock(clock.Now))
	quick := ratelimit.Limit{Rate: 60, Burst: 10} // full 1 s after one request
	slow := ratelimit.Limit{Rate: 1, Burst: 10}   // full 1 min after one request
	ctx := context.Background()
	const n = 5000
	for i := range n {
		m.Allow(ctx, "quick-"+strconv.Itoa(i), quick)
		m.Allow(ctx, "slow-"+strconv.Itoa(i), slow)
	}
	if got := m.Len(); got != 2*n {
		t.Fatalf("Len = %d, want %d", got, 2*n)
	}
	clock.Advance(time.Second - 1)
	if got := m.Sweep(); got != 0 {
		t.Errorf("1 ns before the quick buckets are full: Sweep dropped %d", got)
	}
	clock.Advance(1)
	if got := m.Sweep(); got != n || m.Len() != n {
		t.Errorf("quick buckets full: Sweep dropped %d, Len %d; want %d, %d", got, m.Len(), n, n)
	}
	for i := range n {
		r, _ := m.Allow(ctx, "slow-"+strconv.Itoa(i), slow)
		if r.Remaining != slow.Burst-2 {
			t.Fatalf("slow-%d: Remaining %d, want %d: its bucket was dropped", i, r.Remaining, slow.Burst-2)
		}
	}
	clock.Advance(3 * time.Minute)
	if got := m.Sweep(); got != n || m.Len() != 0 {
		t.Errorf("all full: Sweep dropped %d, Len %d; want %d, 0", got, m.Len(), n)
	}
}

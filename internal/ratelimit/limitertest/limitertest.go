// Package limitertest is the test suite every ratelimit.Limiter must pass.
//
// It comes in two parts because not every limiter can be given a clock:
//
//   - Run needs nothing but real time. Its assertions hold whatever clock the
//     limiter reads (the process's, or a Redis server's TIME): they compare a
//     Result with its own At, and allow for the refill that the elapsed
//     local time could explain, so a slow machine can never fail them.
//   - RunClock drives a fake clock through the limiter and asserts exact
//     figures, nanosecond for nanosecond; only for limiters that read an
//     injected clock.
package limitertest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// Sweeper is implemented by limiters that drop idle buckets on demand: the
// suite sweeps between steps to check that no bucket goes before it is full.
type Sweeper interface {
	// Sweep drops the buckets that are full again and returns how many.
	Sweep() int
}

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// plans are the limits the suite runs each case under.
var plans = []axiom.Plan{axiom.PlanStarter, axiom.PlanProfessional, axiom.PlanEnterprise}

// concurrency is how many requests race on one fresh key.
const concurrency = 1000

// Run runs the real-time tests. newLimiter must return a limiter in which no
// key has been used yet (for a shared server, one with a fresh key prefix).
func Run(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	for _, p := range plans {
		l := ratelimit.PlanLimit(p)
		t.Run("Burst/"+string(p), func(t *testing.T) { realBurst(t, newLimiter(t), l) })
		t.Run("Remaining/"+string(p), func(t *testing.T) { realRemaining(t, newLimiter(t), l) })
		t.Run("Concurrent/"+string(p), func(t *testing.T) { realConcurrent(t, newLimiter(t), l) })
	}
	t.Run("KeysIndependent", func(t *testing.T) { realKeys(t, newLimiter(t)) })
	t.Run("RetryAfter", func(t *testing.T) { realRetryAfter(t, newLimiter(t)) })
	t.Run("PartialRefillKept", func(t *testing.T) { realPartialRefill(t, newLimiter(t)) })
}

// RunClock runs the fake-clock tests. newLimiter must return a limiter in
// which no key has been used yet and which reads now from clock, and only
// from clock, for every decision.
func RunClock(t *testing.T, newLimiter func(t *testing.T, clock func() time.Time) ratelimit.Limiter) {
	// Not on a whole second, so that rounding up to seconds shows.
	t0 := time.Date(2025, 5, 19, 12, 0, 0, 123_456_789, time.UTC)
	setup := func(t *testing.T) (ratelimit.Limiter, *Clock) {
		c := NewClock(t0)
		return newLimiter(t, c.Now), c
	}
	for _, p := range plans {
		l := ratelimit.PlanLimit(p)
		t.Run("Burst/"+string(p), func(t *testing.T) { lim, c := setup(t); clockBurst(t, lim, c, l) })
		t.Run("Sustained/"+string(p), func(t *testing.T) { lim, c := setup(t); clockSustained(t, lim, c, l) })
		t.Run("ResetMeansFull/"+string(p), func(t *testing.T) { lim, c := setup(t); clockReset(t, lim, c, l) })
		t.Run("RemainingPredicts/"+string(p), func(t *testing.T) { lim, c := setup(t); clockRemaining(t, lim, c, l) })
		t.Run("RetryAfter/"+string(p), func(t *testing.T) { lim, c := setup(t); clockRetryAfter(t, lim, c, l) })
		t.Run("Concurrent/"+string(p), func(t *testing.T) { lim, c := setup(t); clockConcurrent(t, lim, c, l) })
	}
	t.Run("KeysIndependent", func(t *testing.T) { lim, c := setup(t); clockKeys(t, lim, c) })
	t.Run("EvictOnlyWhenFull", func(t *testing.T) { lim, c := setup(t); clockEvict(t, lim, c) })
}

// allow asks lim about key and checks the result's own consistency.
func allow(t *testing.T, lim ratelimit.Limiter, key string, l ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := lim.Allow(context.Background(), key, l)
	if err != nil {
		t.Fatalf("Allow(%q, %+v): %v", key, l, err)
	}
	check(t, l, r)
	return r
}

// check asserts what the API description says of any one result.
func check(t *testing.T, l ratelimit.Limit, r ratelimit.Result) {
	t.Helper()
	iv := l.Interval()
	if r.Limit != l.Rate {
		t.Errorf("Limit = %d, want the rate %d", r.Limit, l.Rate)
	}
	if r.At.IsZero() {
		t.Errorf("At is zero")
	}
	toFull := r.ResetAt.Sub(r.At)
	if r.Allowed {
		if r.RetryAfter != 0 || r.RetryAfterSeconds() != 0 {
			t.Errorf("allowed with RetryAfter %v (%d s), want 0", r.RetryAfter, r.RetryAfterSeconds())
		}
		if r.Remaining < 0 || r.Remaining > l.Burst-1 {
			t.Errorf("Remaining = %d, want 0..%d", r.Remaining, l.Burst-1)
		}
		// The bucket lacks burst-remaining requests: that many intervals, the last one partly elapsed.
		if toFull <= 0 || ceilDiv(toFull, iv) != int64(l.Burst-r.Remaining) {
			t.Errorf("Remaining = %d but full again %v after the decision (interval %v, burst %d)",
				r.Remaining, toFull, iv, l.Burst)
		}
	} else {
		if r.Remaining != 0 {
			t.Errorf("denied with Remaining = %d", r.Remaining)
		}
		if r.RetryAfter <= 0 {
			t.Errorf("denied with RetryAfter = %v", r.RetryAfter)
		}
		if s := r.RetryAfterSeconds(); s < 1 || s != ceilDiv(r.RetryAfter, time.Second) {
			t.Errorf("RetryAfterSeconds = %d for RetryAfter %v", s, r.RetryAfter)
		}
		// One request fits after RetryAfter; the burst-1 others take one interval each.
		if want := r.RetryAfter + time.Duration(l.Burst-1)*iv; toFull != want {
			t.Errorf("denied: full again after %v, want RetryAfter %v + %d intervals = %v",
				toFull, r.RetryAfter, l.Burst-1, want)
		}
	}
	reset := r.ResetUnix()
	if ns := r.ResetAt.UnixNano(); reset*1e9 < ns || (reset-1)*1e9 >= ns {
		t.Errorf("ResetUnix = %d, want %v rounded up to the second", reset, r.ResetAt)
	}
	h := http.Header{}
	r.SetHeaders(h)
	want := map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(l.Rate),
		"X-RateLimit-Remaining": strconv.Itoa(r.Remaining),
		"X-RateLimit-Reset":     strconv.FormatInt(reset, 10),
		"Retry-After":           "",
	}
	if !r.Allowed {
		want["Retry-After"] = strconv.FormatInt(r.RetryAfterSeconds(), 10)
	}
	for name, v := range want {
		if got := h.Get(name); got != v {
			t.Errorf("header %s = %q, want %q", name, got, v)
		}
	}
}

func ceilDiv(a, b time.Duration) int64 { return int64((a + b - 1) / b) }

// refills is how many requests a bucket can have regained in elapsed.
func refills(elapsed time.Duration, l ratelimit.Limit) int { return int(elapsed / l.Interval()) }

// realBurst: a fresh bucket admits burst requests, and one more only if
// the elapsed time refilled it.
func realBurst(t *testing.T, lim ratelimit.Limiter, l ratelimit.Limit) {
	start := time.Now()
	for i := range l.Burst {
		if r := allow(t, lim, "acct", l); !r.Allowed {
			t.Fatalf("request %d of a fresh bucket denied (burst %d)", i+1, l.Burst)
		}
	}
	r := allow(t, lim, "acct", l)
	if elapsed := time.Since(start); r.Allowed && refills(elapsed, l) == 0 {
		t.Errorf("request %d allowed %v after the first, less than one interval (%v)",
			l.Burst+1, elapsed, l.Interval())
	}
}

// realRemaining: Remaining starts at burst-1 and falls by one per request,
// short of what the elapsed time refilled; ResetAt moves by one interval.
func realRemaining(t *testing.T, lim ratelimit.Limiter, l ratelimit.Limit) {
	start := time.Now()
	var prev ratelimit.Result
	for i := range l.Burst {
		r := allow(t, lim, "acct", l)
		elapsed := time.Since(start)
		if !r.Allowed {
			t.Fatalf("request %d of a fresh bucket denied (burst %d)", i+1, l.Burst)
		}
		if i == 0 && r.ResetAt.Sub(r.At) != l.Interval() {
			t.Errorf("fresh bucket: full again %v after its first request, want one interval %v",
				r.ResetAt.Sub(r.At), l.Interval())
		}
		// Request i+1 leaves burst-1-i, plus whatever refilled since the first.
		lo := l.Burst - 1 - i
		if hi := lo + refills(elapsed, l); r.Remaining < lo || r.Remaining > hi {
			t.Errorf("request %d: Remaining = %d, want %d..%d after %v", i+1, r.Remaining, lo, hi, elapsed)
		}
		// A bucket not yet full again gains exactly one interval per request.
		if i > 0 && prev.ResetAt.After(r.At) && r.ResetAt.Sub(prev.ResetAt) != l.Interval() {
			t.Errorf("request %d: ResetAt moved by %v, want %v", i+1, r.ResetAt.Sub(prev.ResetAt), l.Interval())
		}
		prev = r
	}
}

// realConcurrent: racing requests on a fresh key admit burst, plus the refill.
func realConcurrent(t *testing.T, lim ratelimit.Limiter, l ratelimit.Limit) {
	results := race(t, lim, "acct", l)
	elapsed := results.elapsed
	allowed := results.allowed()
	if hi := l.Burst + refills(elapsed, l); len(allowed) < l.Burst || len(allowed) > hi {
		t.Errorf("%d concurrent requests: %d allowed in %v, want %d..%d",
			concurrency, len(allowed), elapsed, l.Burst, hi)
	}
	// Each admission moves the bucket's TAT: two cannot share a ResetAt.
	seen := make(map[int64]bool, len(allowed))
	for _, r := range allowed {
		ns := r.ResetAt.UnixNano()
		if seen[ns] {
			t.Errorf("two admissions report the same ResetAt %v", r.ResetAt)
		}
		seen[ns] = true
	}
}

// raced are the results of concurrent requests.
type raced struct {
	results []ratelimit.Result
	elapsed time.Duration
}

func (rs raced) allowed() []ratelimit.Result {
	var a []ratelimit.Result
	for _, r := range rs.results {
		if r.Allowed {
			a = append(a, r)
		}
	}
	return a
}

// race sends concurrency requests on key at once and checks each result.
func race(t *testing.T, lim ratelimit.Limiter, key string, l ratelimit.Limit) raced {
	t.Helper()
	results := make([]ratelimit.Result, concurrency)
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			<-start
			results[i], errs[i] = lim.Allow(context.Background(), key, l)
		})
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(begin)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		check(t, l, results[i])
	}
	return raced{results: results, elapsed: elapsed}
}

// realKeys: draining one key leaves every other key full.
func realKeys(t *testing.T, lim ratelimit.Limiter) {
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	start := time.Now()
	for range l.Burst {
		allow(t, lim, "acct-a", l)
	}
	// Keys that differ from acct-a only slightly, and another plan's limit.
	for _, key := range []string{"acct-b", "ACCT-A", "acct-a ", "acct-", "acct-aa", ""} {
		if r := allow(t, lim, key, l); !r.Allowed || r.Remaining != l.Burst-1 {
			t.Errorf("key %q after draining acct-a: allowed %v, Remaining %d, want true, %d",
				key, r.Allowed, r.Remaining, l.Burst-1)
		}
	}
	other := ratelimit.PlanLimit(axiom.PlanEnterprise)
	if r := allow(t, lim, "acct-c", other); r.Remaining != other.Burst-1 {
		t.Errorf("acct-c under %+v: Remaining %d, want %d", other, r.Remaining, other.Burst-1)
	}
	r := allow(t, lim, "acct-a", l)
	if elapsed := time.Since(start); r.Allowed && refills(elapsed, l) == 0 {
		t.Errorf("acct-a allowed again after other keys' requests, %v after draining", elapsed)
	}
}

// fast is a limit with a short interval, so that real-time tests can wait for refills.
var fast = ratelimit.Limit{Rate: 600, Burst: 3} // one request per 100 ms

// drain sends requests on key until one is denied and returns that one.
func drain(t *testing.T, lim ratelimit.Limiter, key string, l ratelimit.Limit) ratelimit.Result {
	t.Helper()
	start := time.Now()
	for n := 0; ; n++ {
		r := allow(t, lim, key, l)
		if !r.Allowed {
			return r
		}
		elapsed := time.Since(start)
		if n >= l.Burst+refills(elapsed, l) {
			t.Fatalf("%d requests allowed in %v, more than burst %d plus the refill", n+1, elapsed, l.Burst)
		}
		if n > 100*l.Burst {
			t.Skipf("machine too slow to drain a bucket of %d refilling every %v", l.Burst, l.Interval())
		}
	}
}

// realRetryAfter: a request sent RetryAfter, or Retry-After seconds, after a
// denial is allowed.
func realRetryAfter(t *testing.T, lim ratelimit.Limiter) {
	denied := drain(t, lim, "acct", fast)
	time.Sleep(denied.RetryAfter)
	if r := allow(t, lim, "acct", fast); !r.Allowed {
		t.Errorf("denied again RetryAfter (%v) after a denial", denied.RetryAfter)
	}
	denied = drain(t, lim, "acct", fast)
	time.Sleep(time.Duration(denied.RetryAfterSeconds()) * time.Second)
	if r := allow(t, lim, "acct", fast); !r.Allowed {
		t.Errorf("denied again Retry-After (%d s) after a denial", denied.RetryAfterSeconds())
	}
}

// realPartialRefill: a drained bucket that has partly refilled is remembered,
// sweeps included, rather than forgotten as if full.
func realPartialRefill(t *testing.T, lim ratelimit.Limiter) {
	start := time.Now()
	for range fast.Burst {
		allow(t, lim, "acct", fast)
	}
	time.Sleep(fast.Interval() * 3 / 2)
	if s, ok := lim.(Sweeper); ok {
		s.Sweep()
	}
	r := allow(t, lim, "acct", fast)
	elapsed := time.Since(start)
	if !r.Allowed {
		t.Fatalf("denied %v after draining, more than one interval %v", elapsed, fast.Interval())
	}
	// burst+1 requests since start leave burst-(burst+1) plus the refill.
	if hi := refills(elapsed, fast) - 1; r.Remaining > hi {
		t.Errorf("Remaining = %d %v after draining, want at most %d: the bucket was forgotten",
			r.Remaining, elapsed, hi)
	}
}

// same reports whether a and b are the same decision.
func same(a, b ratelimit.Result) bool {
	return a.Allowed == b.Allowed && a.Limit == b.Limit && a.Remaining == b.Remaining &&
		a.ResetAt.Equal(b.ResetAt) && a.RetryAfter == b.RetryAfter && a.At.Equal(b.At)
}

// at is t0 plus n intervals of l.
func at(t0 time.Time, n int, l ratelimit.Limit) time.Time {
	return t0.Add(time.Duration(n) * l.Interval())
}

// expect asserts a result's figures exactly.
func expect(t *testing.T, what string, r ratelimit.Result, allowed bool, remaining int, resetAt time.Time, retryAfter time.Duration) {
	t.Helper()
	if r.Allowed != allowed || r.Remaining != remaining || !r.ResetAt.Equal(resetAt) || r.RetryAfter != retryAfter {
		t.Errorf("%s: got allowed %v, remaining %d, reset %v, retry after %v; want %v, %d, %v, %v",
			what, r.Allowed, r.Remaining, r.ResetAt, r.RetryAfter, allowed, remaining, resetAt, retryAfter)
	}
}

// clockBurst: exactly burst at once, then one per interval, to the nanosecond.
func clockBurst(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	t0 := c.Now()
	for i := range l.Burst {
		r := allow(t, lim, "acct", l)
		expect(t, "request "+strconv.Itoa(i+1), r, true, l.Burst-1-i, at(t0, i+1, l), 0)
		if !r.At.Equal(t0) {
			t.Fatalf("At = %v, want the clock's %v", r.At, t0)
		}
	}
	iv := l.Interval()
	expect(t, "request burst+1", allow(t, lim, "acct", l), false, 0, at(t0, l.Burst, l), iv)
	c.Advance(iv - 1)
	expect(t, "one nanosecond short of an interval", allow(t, lim, "acct", l), false, 0, at(t0, l.Burst, l), 1)
	c.Advance(1)
	expect(t, "one interval later", allow(t, lim, "acct", l), true, 0, at(t0, l.Burst+1, l), 0)
	expect(t, "and again", allow(t, lim, "acct", l), false, 0, at(t0, l.Burst+1, l), iv)
}

// clockSustained: a drained bucket admits exactly rate requests a minute.
func clockSustained(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	for range l.Burst {
		allow(t, lim, "acct", l)
	}
	admitted := 0
	// Twice the rate: every other request must be denied.
	for i := range 2 * l.Rate {
		c.Advance(l.Interval() / 2)
		r := allow(t, lim, "acct", l)
		if r.Allowed {
			admitted++
		}
		if r.Allowed != (i%2 == 1) {
			t.Fatalf("request %d half an interval after the previous: allowed %v", i+1, r.Allowed)
		}
	}
	if admitted != l.Rate {
		t.Errorf("admitted %d in a minute, want %d", admitted, l.Rate)
	}
}

// clockReset: at ResetAt the bucket admits burst requests at once, and one
// nanosecond before it only burst-1.
func clockReset(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	// Two keys with the same history, then probed just before and at ResetAt.
	var r ratelimit.Result
	for i := range l.Burst / 2 {
		c.Advance(l.Interval() / 3)
		r = allow(t, lim, "acct-a", l)
		if b := allow(t, lim, "acct-b", l); !same(b, r) {
			t.Fatalf("request %d: same history, different results %+v and %+v", i+1, r, b)
		}
	}
	c.Set(r.ResetAt.Add(-1))
	if n := burstNow(t, lim, "acct-a", l); n != l.Burst-1 {
		t.Errorf("1 ns before ResetAt: %d admitted at once, want %d", n, l.Burst-1)
	}
	c.Set(r.ResetAt)
	if n := burstNow(t, lim, "acct-b", l); n != l.Burst {
		t.Errorf("at ResetAt: %d admitted at once, want %d", n, l.Burst)
	}
}

// burstNow counts the requests on key admitted before the first denial, the
// clock standing still.
func burstNow(t *testing.T, lim ratelimit.Limiter, key string, l ratelimit.Limit) int {
	t.Helper()
	for n := 0; n <= l.Burst; n++ {
		if r := allow(t, lim, key, l); !r.Allowed {
			return n
		}
	}
	return l.Burst + 1
}

// clockRemaining: after any allowed request, exactly Remaining more are
// admitted at the same instant; a denial leaves the bucket as it was.
func clockRemaining(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	rng := rand.New(rand.NewPCG(1, 2))
	maxStep := time.Duration(l.Burst) * l.Interval() * 6 / 5
	for step := range 100 {
		// Half the probes at the instant of the previous one.
		c.Advance(time.Duration(rng.Int64N(int64(maxStep))) * time.Duration(rng.IntN(2)))
		r := allow(t, lim, "acct", l)
		if !r.Allowed {
			if again := allow(t, lim, "acct", l); !same(again, r) {
				t.Fatalf("step %d: a denial changed the bucket: %+v then %+v", step, r, again)
			}
			continue
		}
		if n := burstNow(t, lim, "acct", l); n != r.Remaining {
			t.Fatalf("step %d: Remaining %d, but %d more admitted at once", step, r.Remaining, n)
		}
		// Drained: let a random part of the bucket refill before the next probe.
		c.Advance(time.Duration(rng.Int64N(int64(maxStep))))
	}
}

// clockRetryAfter: a request RetryAfter after a denial is allowed, one
// nanosecond sooner it is not, and Retry-After seconds are enough too.
func clockRetryAfter(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	for range l.Burst {
		allow(t, lim, "acct", l)
	}
	c.Advance(l.Interval() * 3 / 10)
	r := allow(t, lim, "acct", l)
	if want := l.Interval() - l.Interval()*3/10; r.Allowed || r.RetryAfter != want {
		t.Fatalf("denial 0.3 interval after draining: allowed %v, RetryAfter %v, want false, %v", r.Allowed, r.RetryAfter, want)
	}
	c.Advance(r.RetryAfter - 1)
	if r := allow(t, lim, "acct", l); r.Allowed || r.RetryAfter != 1 {
		t.Errorf("1 ns before RetryAfter: allowed %v, RetryAfter %v, want false, 1ns", r.Allowed, r.RetryAfter)
	}
	c.Advance(1)
	if r := allow(t, lim, "acct", l); !r.Allowed {
		t.Errorf("denied RetryAfter after a denial")
	}
	r = allow(t, lim, "acct", l)
	if r.Allowed {
		t.Fatalf("allowed at once after the one refill")
	}
	c.Advance(time.Duration(r.RetryAfterSeconds()) * time.Second)
	if r := allow(t, lim, "acct", l); !r.Allowed {
		t.Errorf("denied Retry-After seconds after a denial")
	}
}

// clockConcurrent: racing requests at one instant admit exactly burst, and
// the admitted ones report each Remaining from burst-1 down to 0 once.
func clockConcurrent(t *testing.T, lim ratelimit.Limiter, c *Clock, l ratelimit.Limit) {
	t0 := c.Now()
	rs := race(t, lim, "acct", l)
	seen := make([]bool, l.Burst)
	allowed := 0
	for _, r := range rs.results {
		if !r.Allowed {
			expect(t, "denied", r, false, 0, at(t0, l.Burst, l), l.Interval())
			continue
		}
		allowed++
		if r.Remaining < 0 || r.Remaining >= l.Burst {
			continue // reported by check
		}
		if seen[r.Remaining] {
			t.Errorf("Remaining %d reported twice", r.Remaining)
		}
		seen[r.Remaining] = true
		expect(t, "allowed", r, true, r.Remaining, at(t0, l.Burst-r.Remaining, l), 0)
	}
	if allowed != l.Burst {
		t.Errorf("%d concurrent requests at one instant: %d allowed, want %d", concurrency, allowed, l.Burst)
	}
}

// clockKeys: draining one key leaves every other key full.
func clockKeys(t *testing.T, lim ratelimit.Limiter, c *Clock) {
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	if n := burstNow(t, lim, "acct-a", l); n != l.Burst {
		t.Fatalf("acct-a admitted %d, want %d", n, l.Burst)
	}
	for _, key := range []string{"acct-b", "ACCT-A", "acct-a ", "acct-", "acct-aa", ""} {
		if n := burstNow(t, lim, key, l); n != l.Burst {
			t.Errorf("key %q after draining acct-a: %d admitted, want %d", key, n, l.Burst)
		}
	}
	c.Advance(l.Interval())
	if n := burstNow(t, lim, "acct-a", l); n != 1 {
		t.Errorf("acct-a one interval after draining, other keys drained meanwhile: %d admitted, want 1", n)
	}
}

// clockEvict: a bucket is kept until it is full again, and only then may a
// sweep drop it; after that the key behaves as a fresh one.
func clockEvict(t *testing.T, lim ratelimit.Limiter, c *Clock) {
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	sweeper, _ := lim.(Sweeper)
	sweep := func(what string, want int) {
		t.Helper()
		if sweeper == nil {
			return
		}
		if n := sweeper.Sweep(); n != want {
			t.Errorf("%s: Sweep dropped %d buckets, want %d", what, n, want)
		}
	}
	t0 := c.Now()
	for range l.Burst {
		allow(t, lim, "acct", l)
	}
	sweep("drained", 0)
	c.Set(at(t0, l.Burst/2, l))
	sweep("half refilled", 0)
	// A forgotten bucket would report burst-1.
	r := allow(t, lim, "acct", l)
	expect(t, "half refilled", r, true, l.Burst/2-1, at(t0, l.Burst+1, l), 0)
	c.Set(r.ResetAt.Add(-1))
	sweep("1 ns before full", 0)
	c.Set(r.ResetAt)
	sweep("full again", 1)
	sweep("swept already", 0)
	now := c.Now()
	expect(t, "after the sweep", allow(t, lim, "acct", l), true, l.Burst-1, at(now, 1, l), 0)
}

package redislimit

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/ratelimit/limitertest"
)

// envURL names the Redis server the tests write keys to, under a random prefix.
const envURL = "AXIOM_TEST_REDIS_URL"

// client returns a client of the test Redis, or skips the test when none is set.
func client(tb testing.TB) *redis.Client {
	tb.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		tb.Skipf("%s is unset: no Redis to test against (.ci/services.sh starts one)", envURL)
	}
	opt, err := ParseURL(u)
	if err != nil {
		tb.Fatalf("%s: %v", envURL, err)
	}
	// The suite races a thousand requests on a machine other tests load
	// too: waits that would be failures in production are only slow here.
	opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = 30*time.Second, 30*time.Second, time.Minute
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("Redis at %s does not answer: %v", u, err)
	}
	return rdb
}

// prefix is a key prefix no other test uses.
func prefix() string { return "axiom-test:" + rand.Text() + ":" }

func TestLimiter(t *testing.T) {
	rdb := client(t)
	limitertest.Run(t, func(t *testing.T) ratelimit.Limiter {
		return New(rdb, Options{Prefix: prefix()})
	})
}

// The script's arithmetic, driven by a fake clock in place of TIME, gives
// the shared suite's exact figures: Enterprise admits exactly 500 at once.
func TestLimiterClock(t *testing.T) {
	rdb := client(t)
	limitertest.RunClock(t, func(t *testing.T, clock func() time.Time) ratelimit.Limiter {
		p := prefix()
		// The keys of a fake clock never expire: delete them.
		t.Cleanup(func() {
			ctx := context.Background()
			keys, err := rdb.Keys(ctx, p+"*").Result()
			if err == nil && len(keys) > 0 {
				err = rdb.Del(ctx, keys...).Err()
			}
			if err != nil {
				t.Errorf("deleting the test's keys: %v", err)
			}
		})
		lim := New(rdb, Options{Prefix: p})
		lim.clock = clock
		return lim
	})
}

// storedTAT reads a bucket's key: its TAT in Unix nanoseconds, 0 if absent.
func storedTAT(t *testing.T, rdb *redis.Client, key string) int64 {
	t.Helper()
	s, err := rdb.Get(t.Context(), key).Result()
	if errors.Is(err, redis.Nil) {
		return 0
	}
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("GET %s = %q: not Unix nanoseconds: %v", key, s, err)
	}
	return n
}

// inspect reads at one instant a bucket's key (its TAT, 0 if absent), when
// it expires and Redis's time.
func inspect(t *testing.T, rdb *redis.Client, key string) (tat int64, expireAt time.Duration, now time.Time) {
	t.Helper()
	var get *redis.StringCmd
	var exp *redis.DurationCmd
	var clock *redis.TimeCmd
	_, err := rdb.TxPipelined(t.Context(), func(p redis.Pipeliner) error {
		get, exp, clock = p.Get(t.Context(), key), p.PExpireTime(t.Context(), key), p.Time(t.Context())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("inspect %s: %v", key, err)
	}
	if s, err := get.Result(); err == nil {
		if tat, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("GET %s = %q: not Unix nanoseconds: %v", key, s, err)
		}
	}
	return tat, exp.Val(), clock.Val()
}

// The script's arithmetic is ratelimit.GCRA's, nanosecond for nanosecond, at
// the instant Redis reports, for the plans and for limits whose interval is
// no whole number of microseconds.
func TestMatchesGCRA(t *testing.T) {
	rdb := client(t)
	limits := []ratelimit.Limit{
		ratelimit.PlanLimit(axiom.PlanStarter),
		ratelimit.PlanLimit(axiom.PlanProfessional),
		ratelimit.PlanLimit(axiom.PlanEnterprise),
		{Rate: 7, Burst: 3},             // interval 8.571428571 s
		{Rate: 600_000, Burst: 5},       // 100 µs: refills between requests
		{Rate: 1_000_000_007, Burst: 2}, // 59 ns
		{Rate: 1, Burst: 75_000},        // tolerance 52 days, near the bound
	}
	for _, l := range limits {
		t.Run(strconv.Itoa(l.Rate)+"/"+strconv.Itoa(l.Burst), func(t *testing.T) {
			p := prefix()
			lim := New(rdb, Options{Prefix: p})
			key := p + "acct"
			for i := range min(l.Burst, 600) + 3 {
				before := storedTAT(t, rdb, key)
				r, err := lim.Allow(t.Context(), "acct", l)
				if err != nil {
					t.Fatalf("Allow: %v", err)
				}
				wantTAT, want, err := ratelimit.GCRA(before, r.At, l)
				if err != nil {
					t.Fatal(err)
				}
				if r.Allowed != want.Allowed || r.Limit != want.Limit || r.Remaining != want.Remaining ||
					!r.ResetAt.Equal(want.ResetAt) || r.RetryAfter != want.RetryAfter {
					t.Fatalf("request %d on TAT %d at %v:\n got %+v\nwant %+v", i+1, before, r.At, r, want)
				}
				// The key holds the new TAT and expires when the bucket would be
				// full again, rounded up to Redis's millisecond. With intervals
				// under a millisecond it may be gone already, but never before
				// the bucket is full.
				after, expireAt, now := inspect(t, rdb, key)
				wantExpiry := time.Duration((wantTAT + 999_999) / 1_000_000 * 1_000_000)
				switch {
				case !r.Allowed && after != before:
					t.Fatalf("request %d, denied: stored TAT %d, want it kept at %d", i+1, after, before)
				case !r.Allowed:
				case after == 0 && now.Before(time.Unix(0, wantTAT)):
					t.Fatalf("request %d: key gone at %v, before the bucket is full at %v", i+1, now, time.Unix(0, wantTAT))
				case after != 0 && (after != wantTAT || expireAt != wantExpiry):
					t.Fatalf("request %d: stored TAT %d expiring at %v, want %d expiring at %v",
						i+1, after, time.Unix(0, int64(expireAt)), wantTAT, time.Unix(0, int64(wantExpiry)))
				}
			}
		})
	}
}

// A bucket's key is gone once the bucket is full again.
func TestKeyExpires(t *testing.T) {
	rdb := client(t)
	p := prefix()
	lim := New(rdb, Options{Prefix: p})
	l := ratelimit.Limit{Rate: 6000, Burst: 3} // 10 ms
	r, err := lim.Allow(t.Context(), "acct", l)
	if err != nil || !r.Allowed {
		t.Fatalf("Allow = %+v, %v", r, err)
	}
	for {
		// Redis's time before the look: if the key is there, it was there then too.
		now, err := rdb.Time(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := rdb.Exists(t.Context(), p+"acct").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		// Expiry is to the millisecond, rounded up, and Redis ends a key
		// the millisecond after: two milliseconds past the TAT it must be gone.
		if !now.Before(r.ResetAt.Add(2 * time.Millisecond)) {
			t.Fatalf("key still there at %v, the bucket full again at %v", now, r.ResetAt)
		}
		time.Sleep(time.Millisecond)
	}
}

// Two servers, each with its own client, share one bucket per key.
func TestShared(t *testing.T) {
	a, b := client(t), client(t)
	p := prefix()
	la, lb := New(a, Options{Prefix: p}), New(b, Options{Prefix: p})
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	var wg sync.WaitGroup
	var allowed atomic.Int64
	start := time.Now()
	for i := range 2 * l.Burst {
		wg.Go(func() {
			lim := la
			if i%2 == 1 {
				lim = lb
			}
			r, err := lim.Allow(context.Background(), "acct", l)
			if err != nil {
				t.Error(err)
			}
			if r.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	refilled := int64(time.Since(start) / l.Interval())
	if n := allowed.Load(); n < int64(l.Burst) || n > int64(l.Burst)+refilled {
		t.Errorf("%d requests through two limiters: %d allowed, want %d (+%d refilled)", 2*l.Burst, n, l.Burst, refilled)
	}
}

func TestValidate(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never reached: the limit is refused first
	defer rdb.Close()
	lim := New(rdb, Options{Failure: FailOpen})
	for _, tc := range []struct {
		l  ratelimit.Limit
		ok bool
	}{
		{ratelimit.PlanLimit(axiom.PlanEnterprise), true},
		{ratelimit.Limit{Rate: 1, Burst: 75_000}, true},
		{ratelimit.Limit{Rate: 1, Burst: 75_060}, false}, // (burst+1) × 60 s > 2^52 ns
		{ratelimit.Limit{Rate: 0, Burst: 1}, false},
		{ratelimit.Limit{Rate: 60, Burst: 0}, false},
		{ratelimit.Limit{Rate: 60, Burst: -1}, false},
	} {
		err := Validate(tc.l)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ratelimit.ErrInvalidLimit) {
			t.Errorf("Validate(%+v) = %v; want ok=%v", tc.l, err, tc.ok)
		}
		if !tc.ok {
			// Refused even when failing open: a bad limit is no outage.
			if _, err := lim.Allow(t.Context(), "acct", tc.l); !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Errorf("Allow(%+v) error = %v; want ErrInvalidLimit", tc.l, err)
			}
		}
	}
}

// unreachable returns client options for an address nothing listens on,
// counting the dials.
func unreachable(t *testing.T) (*redis.Options, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	opt, err := ParseURL("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int64
	var d net.Dialer
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return opt, &dials
}

func TestFailure(t *testing.T) {
	l := ratelimit.PlanLimit(axiom.PlanProfessional)
	for _, f := range []Failure{FailOpen, FailClosed} {
		t.Run(f.String(), func(t *testing.T) {
			opt, dials := unreachable(t)
			rdb := redis.NewClient(opt)
			defer rdb.Close()
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			lim := New(rdb, Options{Failure: f, Backoff: time.Hour, Logger: log})
			for i := range 3 {
				r, err := lim.Allow(t.Context(), "acct", l)
				switch f {
				case FailOpen:
					if err != nil || !r.Allowed || r.Remaining != l.Burst-1 || r.Limit != l.Rate || r.At.IsZero() ||
						r.ResetAt.Sub(r.At) != l.Interval() {
						t.Errorf("request %d failing open = %+v, %v; want the figures of a full bucket", i+1, r, err)
					}
				case FailClosed:
					if !errors.Is(err, ErrUnavailable) || r.Allowed {
						t.Errorf("request %d failing closed = %+v, %v; want ErrUnavailable", i+1, r, err)
					}
				}
			}
			// Within the backoff Redis is not dialled again.
			if n := dials.Load(); n != 1 {
				t.Errorf("%d dials for 3 requests within the backoff; want 1", n)
			}
			if n := strings.Count(logs.String(), "Redis unavailable"); n != 1 {
				t.Errorf("logged the failure %d times; want once:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), "policy="+f.String()) {
				t.Errorf("the log does not name the policy %s:\n%s", f, logs.String())
			}
		})
	}
}

// A limiter whose Redis comes back decides again with it, and says so.
func TestRecovery(t *testing.T) {
	real := client(t)
	opt := *real.Options()
	var broken atomic.Bool
	broken.Store(true)
	var d net.Dialer
	opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if broken.Load() {
			return nil, errors.New("network down")
		}
		return d.DialContext(ctx, network, addr)
	}
	rdb := redis.NewClient(&opt)
	defer rdb.Close()
	var logs strings.Builder
	lim := New(rdb, Options{Prefix: prefix(), Failure: FailClosed, Backoff: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	if _, err := lim.Allow(t.Context(), "acct", l); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Allow with the network down: error = %v; want ErrUnavailable", err)
	}
	broken.Store(false)
	for i := range 2 {
		r, err := lim.Allow(t.Context(), "acct", l)
		if err != nil || !r.Allowed || r.Remaining != l.Burst-1-i {
			t.Errorf("request %d after recovery = %+v, %v; want counted from a full bucket", i+1, r, err)
		}
	}
	if !strings.Contains(logs.String(), "Redis answers again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// An abandoned request is an error, whatever the policy, and no outage.
func TestCanceled(t *testing.T) {
	rdb := client(t)
	lim := New(rdb, Options{Prefix: prefix(), Failure: FailOpen})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := lim.Allow(ctx, "acct", ratelimit.PlanLimit(axiom.PlanStarter)); !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a canceled context: error = %v; want context.Canceled", err)
	}
	if lim.down.Load() {
		t.Errorf("a canceled request marked Redis down")
	}
}

func TestParseFailure(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Failure
		ok   bool
	}{
		{"fail-open", FailOpen, true},
		{"fail-closed", FailClosed, true},
		{"open", 0, false},
		{"", 0, false},
		{"FAIL-OPEN", 0, false},
	} {
		got, err := ParseFailure(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseFailure(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%v.String() = %q; want %q", got, got.String(), tc.in)
		}
	}
}

func TestParseURL(t *testing.T) {
	opt, err := ParseURL("redis://:pw@127.0.0.1:6380/2")
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "127.0.0.1:6380" || opt.DB != 2 || opt.Password != "pw" || opt.DialTimeout != time.Second ||
		opt.ReadTimeout != time.Second || opt.WriteTimeout != time.Second || opt.MaxRetries != -1 {
		t.Errorf("ParseURL = %+v", opt)
	}
	opt, err = ParseURL("redis://127.0.0.1:6380?read_timeout=3s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	if opt.ReadTimeout != 3*time.Second || opt.MaxRetries != 2 || opt.DialTimeout != time.Second {
		t.Errorf("ParseURL kept read_timeout %v, max_retries %d; want 3s, 2", opt.ReadTimeout, opt.MaxRetries)
	}
	for _, bad := range []string{"http://127.0.0.1", "redis://127.0.0.1/notanumber", "::"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		}
	}
}

var _ io.Closer = (*redis.Client)(nil)

// BenchmarkAllow measures one decision: a script run on Redis, round trip
// included, from one goroutine and from many.
func BenchmarkAllow(b *testing.B) {
	lim := New(client(b), Options{Prefix: prefix()})
	// A burst no run exhausts, so that every decision writes.
	l := ratelimit.Limit{Rate: 60, Burst: 4_000_000}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := lim.Allow(b.Context(), "acct", l); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := lim.Allow(context.Background(), "acct", l); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

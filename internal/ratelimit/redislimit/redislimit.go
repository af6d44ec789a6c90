// Package redislimit is a ratelimit.Limiter whose buckets live in Redis, so
// that every server using the same Redis enforces one limit per account.
//
// Each decision is one Lua script, run atomically by Redis: the GCRA of
// package ratelimit in integer nanoseconds, on Redis's clock (TIME) alone,
// so that servers whose clocks differ still agree. A bucket is one key, the
// account's theoretical arrival time, which expires when the bucket would be
// full again: an idle account costs nothing.
//
// When Redis cannot be reached the Failure option decides: FailClosed
// refuses the request (Allow returns an error wrapping ErrUnavailable, which
// the server answers with a 500 internal_error envelope), FailOpen admits it
// uncounted, with the figures of a full bucket. Either way, after a failure
// Redis is left alone for the Backoff option's time, during which the
// decision is made at once.
package redislimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axiomkit/axiom/internal/ratelimit"
)

// ErrUnavailable wraps the error of a decision Redis could not make.
var ErrUnavailable = errors.New("rate limiter: Redis unavailable")

// maxTolerance bounds (burst+1) × interval: the script's doubles hold every
// instant it computes exactly as long as they stay under 2^53 nanoseconds.
const maxTolerance = 1 << 52 // about 52 days

// DefaultPrefix starts every key the limiter writes.
const DefaultPrefix = "axiom:ratelimit:"

// DefaultBackoff is how long Redis is left alone after a failure.
const DefaultBackoff = time.Second

// Failure says what Allow does when Redis cannot be reached.
type Failure int

const (
	// FailClosed refuses the request: Allow returns an error.
	FailClosed Failure = iota
	// FailOpen admits the request uncounted.
	FailOpen
)

// ParseFailure parses "fail-closed" or "fail-open".
func ParseFailure(s string) (Failure, error) {
	switch s {
	case "fail-closed":
		return FailClosed, nil
	case "fail-open":
		return FailOpen, nil
	}
	return 0, fmt.Errorf("redis failure mode must be fail-open or fail-closed, not %q", s)
}

func (f Failure) String() string {
	if f == FailOpen {
		return "fail-open"
	}
	return "fail-closed"
}

// Options tune New; the zero value fails closed.
type Options struct {
	// Prefix starts every key; "" means DefaultPrefix. Servers that must
	// share limits use the same one.
	Prefix string
	// Failure is what happens when Redis cannot be reached.
	Failure Failure
	// Backoff is how long Redis is left alone after a failure, the Failure
	// policy applied at once meanwhile; 0 means DefaultBackoff, a negative
	// value never leaves it alone.
	Backoff time.Duration
	// Logger receives a line when Redis fails and when it answers again;
	// nil means none.
	Logger *slog.Logger
}

//go:embed gcra.lua
var gcraSource string

var gcraScript = redis.NewScript(gcraSource)

// Limiter is a ratelimit.Limiter on Redis; safe for concurrent use.
type Limiter struct {
	rdb       redis.Scripter
	prefix    string
	failure   Failure
	backoff   time.Duration
	log       *slog.Logger
	down      atomic.Bool
	downUntil atomic.Int64     // local Unix nanoseconds before which Redis is not asked
	clock     func() time.Time // tests only: replaces Redis's TIME
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a limiter keeping its buckets in rdb, a *redis.Client or any
// other client that runs scripts (a cluster client included: a bucket is one key).
func New(rdb redis.Scripter, opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Backoff == 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{rdb: rdb, prefix: opts.Prefix, failure: opts.Failure, backoff: opts.Backoff, log: opts.Logger}
}

// Validate reports whether the limiter can enforce l: ratelimit's rules, and
// (burst+1) × interval under 2^52 ns, about 52 days (every plan's is 101 s).
func Validate(l ratelimit.Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if int64(l.Burst)+1 > maxTolerance/int64(l.Interval()) {
		return fmt.Errorf("%w: rate %d/min, burst %d: burst × interval must stay under 52 days", ratelimit.ErrInvalidLimit, l.Rate, l.Burst)
	}
	return nil
}

// Allow decides one request on key's bucket under l.
func (lim *Limiter) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	if err := Validate(l); err != nil {
		return ratelimit.Result{}, err
	}
	if lim.backoff > 0 && time.Now().UnixNano() < lim.downUntil.Load() {
		return lim.fail(ctx, key, l, nil)
	}
	interval := int64(l.Interval())
	args := []any{interval, int64(l.Burst) * interval}
	if lim.clock != nil {
		now := lim.clock()
		args = append(args, now.Unix(), now.Nanosecond())
	}
	v, err := gcraScript.Run(ctx, lim.rdb, []string{lim.prefix + key}, args...).Int64Slice()
	if err != nil {
		if ctx.Err() != nil {
			// The request was abandoned: no answer is needed, and Redis is not to blame.
			return ratelimit.Result{}, fmt.Errorf("rate limiter: %w", ctx.Err())
		}
		return lim.fail(ctx, key, l, err)
	}
	if len(v) != 6 {
		return lim.fail(ctx, key, l, fmt.Errorf("script returned %d values, want 6", len(v)))
	}
	if lim.down.CompareAndSwap(true, false) {
		lim.log.LogAttrs(ctx, slog.LevelInfo, "rate limiter: Redis answers again")
	}
	base := v[2]
	r := ratelimit.Result{
		Allowed:   v[0] == 1,
		Limit:     l.Rate,
		Remaining: int(v[1]),
		At:        time.Unix(base, v[3]),
		ResetAt:   time.Unix(base, v[4]),
	}
	if !r.Allowed {
		r.RetryAfter = time.Duration(v[5])
	}
	return r, nil
}

// fail applies the Failure policy to a decision Redis could not make, err
// being the reason, or nil while Redis is left alone after a failure.
func (lim *Limiter) fail(ctx context.Context, key string, l ratelimit.Limit, err error) (ratelimit.Result, error) {
	if err != nil {
		if lim.backoff > 0 {
			lim.downUntil.Store(time.Now().Add(lim.backoff).UnixNano())
		}
		if lim.down.CompareAndSwap(false, true) {
			lim.log.LogAttrs(ctx, slog.LevelError, "rate limiter: Redis unavailable",
				slog.String("policy", lim.failure.String()), slog.Any("error", err))
		}
	} else {
		err = errors.New("failed less than the backoff ago")
	}
	if lim.failure == FailOpen {
		return ratelimit.NewUnlimited().Allow(ctx, key, l)
	}
	return ratelimit.Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// ParseURL parses a redis://, rediss:// or unix:// URL into client options
// suited to a limiter: a decision that takes long is a failure, so dial,
// read and write time out after a second unless the URL says otherwise, and a
// command is never retried, since a retried script could count a request twice.
func ParseURL(rawURL string) (*redis.Options, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, d := range []struct {
		param string
		field *time.Duration
	}{
		{"dial_timeout", &opt.DialTimeout},
		{"read_timeout", &opt.ReadTimeout},
		{"write_timeout", &opt.WriteTimeout},
	} {
		if !q.Has(d.param) {
			*d.field = time.Second
		}
	}
	if !q.Has("max_retries") {
		opt.MaxRetries = -1
	}
	opt.DialerRetries = 1
	return opt, nil
}

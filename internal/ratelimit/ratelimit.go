// Package ratelimit limits each account to its plan's rate with a burst, as
// the API's "Rate limits" section defines it, using the generic cell rate
// algorithm (GCRA) in integer nanoseconds so that a bucket's figures are
// exact: a full Enterprise bucket admits 500 requests at once, not 499.
//
// A bucket is one number, its theoretical arrival time (TAT): the instant at
// which it would be full again. A request at now is admitted when
// max(TAT, now) + interval - now <= burst * interval, and then moves TAT to
// max(TAT, now) + interval. A TAT at or before now is a full bucket, the same
// state as a key never seen, which is why idle buckets can be dropped then.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/axiomkit/axiom"
)

// Response headers, spelled as in the API description.
const (
	HeaderLimit      = "X-RateLimit-Limit"
	HeaderRemaining  = "X-RateLimit-Remaining"
	HeaderReset      = "X-RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// ErrInvalidLimit is returned by Allow for a Limit that Validate rejects.
var ErrInvalidLimit = errors.New("invalid rate limit")

// maxTolerance bounds burst × interval so that TAT arithmetic on Unix
// nanoseconds cannot overflow int64.
const maxTolerance = 100 * 365 * 24 * time.Hour

// Limit is a bucket's shape: it refills at Rate requests per minute and holds
// at most Burst requests.
type Limit struct {
	Rate  int // requests per minute, the X-RateLimit-Limit value
	Burst int // requests a full bucket admits at once
}

// PlanLimit returns the limit of plan p (axiom.Plan.RateLimit, where an
// unknown plan gets Starter's, the strictest).
func PlanLimit(p axiom.Plan) Limit { return Limit(p.RateLimit()) }

// Interval is the emission interval: one request refills every Interval
// (time.Minute / Rate, truncated to the nanosecond; exact for every plan).
func (l Limit) Interval() time.Duration {
	if l.Rate <= 0 {
		return 0
	}
	return time.Minute / time.Duration(l.Rate)
}

// Validate reports whether l can be enforced: a positive rate of at most one
// request per nanosecond and a positive burst whose tolerance fits in int64.
func (l Limit) Validate() error {
	if l.Rate <= 0 || int64(l.Rate) > int64(time.Minute) || l.Burst <= 0 ||
		int64(l.Burst) > int64(maxTolerance/l.Interval()) {
		return fmt.Errorf("%w: rate %d/min, burst %d", ErrInvalidLimit, l.Rate, l.Burst)
	}
	return nil
}

// Result is a limiter's decision on one request and the bucket's state after it.
type Result struct {
	Allowed bool
	// Limit is the plan's rate per minute (X-RateLimit-Limit).
	Limit int
	// Remaining is how many more requests the bucket admits right now, back
	// to back, after this one: 0 to burst-1, and 0 when denied.
	Remaining int
	// ResetAt is when the bucket will be full again if no further request
	// is made; At itself for a bucket that is full.
	ResetAt time.Time
	// RetryAfter is how long after At one request will be admitted; 0 when
	// Allowed.
	RetryAfter time.Duration
	// At is the instant of the decision on the limiter's own clock (a
	// remote limiter may use its server's clock), so that ResetAt and
	// RetryAfter can be checked against it.
	At time.Time
}

// ResetUnix is the X-RateLimit-Reset value: ResetAt in Unix seconds, rounded up.
func (r Result) ResetUnix() int64 {
	s := r.ResetAt.Unix()
	if r.ResetAt.Nanosecond() > 0 {
		s++
	}
	return s
}

// RetryAfterSeconds is the Retry-After value: RetryAfter in whole seconds,
// rounded up, at least 1 when the request was denied and 0 when allowed.
func (r Result) RetryAfterSeconds() int64 {
	if r.Allowed {
		return 0
	}
	return max(1, int64((r.RetryAfter+time.Second-1)/time.Second))
}

// SetHeaders sets the rate-limit headers of r on h, and Retry-After when
// the request was denied (leaving one set for another reason otherwise).
func (r Result) SetHeaders(h http.Header) {
	h.Set(HeaderLimit, strconv.Itoa(r.Limit))
	h.Set(HeaderRemaining, strconv.Itoa(r.Remaining))
	h.Set(HeaderReset, strconv.FormatInt(r.ResetUnix(), 10))
	if !r.Allowed {
		h.Set(HeaderRetryAfter, strconv.FormatInt(r.RetryAfterSeconds(), 10))
	}
}

// Limiter decides whether the request identified by key (an account) may
// proceed under l, and counts it when it may.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// GCRA decides one request at now on a bucket whose TAT is tat (Unix
// nanoseconds; 0 for a bucket never seen) and returns the TAT to store, which
// is tat itself when the request is denied. Every limiter shares this
// arithmetic; a remote one can check its own against it.
func GCRA(tat int64, now time.Time, l Limit) (int64, Result, error) {
	if err := l.Validate(); err != nil {
		return tat, Result{}, err
	}
	newTAT, r := gcra(tat, now, l)
	return newTAT, r, nil
}

// gcra is GCRA for a valid l.
func gcra(tat int64, now time.Time, l Limit) (int64, Result) {
	t := int64(l.Interval())
	tolerance := int64(l.Burst) * t
	n := now.UnixNano()
	next := max(tat, n) + t
	if next-n > tolerance {
		// Denied: one request fits once next-n has fallen to the tolerance.
		return tat, Result{
			Limit:      l.Rate,
			ResetAt:    time.Unix(0, tat),
			RetryAfter: time.Duration(next - n - tolerance),
			At:         now,
		}
	}
	return next, Result{
		Allowed:   true,
		Limit:     l.Rate,
		Remaining: int((tolerance - (next - n)) / t),
		ResetAt:   time.Unix(0, next),
		At:        now,
	}
}

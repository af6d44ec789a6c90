package client

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/axiomkit/axiom"
)

// RateLimit is the account's rate-limit state after a request, from the
// X-RateLimit-* headers. It is the zero value when a response carried none
// (a 401, or a proxy's error page).
type RateLimit struct {
	// Limit is the plan's sustained rate in requests per minute (60, 120 or
	// 300). The burst is larger, so Remaining can exceed it.
	Limit int
	// Remaining is how many more requests the account may send right now,
	// back to back.
	Remaining int
	// Reset is when the bucket will be full again if no request is made.
	Reset time.Time
}

// parseRateLimit reads the X-RateLimit-* headers; ok is false unless all
// three are present and well formed.
func parseRateLimit(h http.Header) (rl RateLimit, ok bool) {
	limit, err1 := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	remaining, err2 := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	reset, err3 := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || limit < 0 || remaining < 0 || reset < 0 {
		return RateLimit{}, false
	}
	return RateLimit{Limit: limit, Remaining: remaining, Reset: time.Unix(reset, 0)}, true
}

// parseRetryAfter reads Retry-After, in seconds or as an HTTP date
// (RFC 9110 §10.2.3); a date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Plan is an Axiom plan, for WithPlanRateLimit.
type Plan = axiom.Plan

// The plans of the API's "Rate limits" table.
const (
	PlanStarter      = axiom.PlanStarter      // 60 requests/minute, burst 100
	PlanProfessional = axiom.PlanProfessional // 120 requests/minute, burst 200
	PlanEnterprise   = axiom.PlanEnterprise   // 300 requests/minute, burst 500
)

// pacer is the proactive limiter: a token bucket shaped like the plan's,
// which each response lowers to the X-RateLimit-Remaining it reports.
type pacer struct {
	mu sync.Mutex // makes sync's two steps atomic for wait's reservations
	l  *rate.Limiter
}

func newPacer(perMinute, burst int) *pacer {
	return &pacer{l: rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst)}
}

// wait blocks until the bucket admits one request, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	r := p.l.Reserve()
	p.mu.Unlock()
	delay := r.Delay()
	if delay <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
		r.Cancel()
		return fmt.Errorf("axiom: waiting for the rate limiter would pass the context's deadline: %w", context.DeadlineExceeded)
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.Cancel() // give the token back
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sync lowers the bucket to the server's Remaining when it holds more, so
// that requests made elsewhere on the account are counted, and so that a
// bucket never runs ahead of the server's: the server counts each request
// a little later than the client, and rounds Remaining down.
func (p *pacer) sync(h http.Header, now time.Time) {
	if p == nil {
		return
	}
	rl, ok := parseRateLimit(h)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l.TokensAt(now) <= float64(rl.Remaining) {
		return
	}
	// rate.Limiter cannot take a fraction of a token; a burst lowered to
	// Remaining and raised back clips the bucket to exactly Remaining.
	burst := p.l.Burst()
	p.l.SetBurstAt(now, rl.Remaining)
	p.l.SetBurstAt(now, burst)
}

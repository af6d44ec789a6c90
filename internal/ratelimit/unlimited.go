package ratelimit

import (
	"context"
	"time"
)

// Unlimited is a Limiter that admits every request, for a server run without
// rate limiting. Each Result is the one a full bucket of the same Limit gives
// its first request, so clients still see the plan's figures and coherent
// headers, never a 429: Limit = l.Rate, Remaining = l.Burst-1 (at least 0),
// ResetAt = now + l.Interval(), RetryAfter = 0. It keeps no state.
type Unlimited struct {
	clock func() time.Time
}

// NewUnlimited returns a limiter that admits everything; WithClock applies.
func NewUnlimited(opts ...Option) Unlimited {
	return Unlimited{clock: newOptions(opts).clock}
}

// Allow admits the request; it never fails, whatever l.
func (u Unlimited) Allow(_ context.Context, _ string, l Limit) (Result, error) {
	clock := u.clock
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	return Result{
		Allowed:   true,
		Limit:     l.Rate,
		Remaining: max(0, l.Burst-1),
		ResetAt:   now.Add(l.Interval()),
		At:        now,
	}, nil
}

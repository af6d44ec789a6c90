package server

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/ratelimit"
)

// Limiter decides whether an account's request may proceed under its plan.
type Limiter interface {
	Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error)
}

type rateKey struct{}

// rateDecision is what the rate-limit headers of this request say.
type rateDecision struct {
	Limit, Remaining int
	Reset            int64
}

// rateLimit counts the request against its account's plan and sets the
// rate-limit headers, which every later answer, errors included, carries.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		p, _ := principalFrom(ctx)
		res, err := s.limit.Allow(ctx, p.Account.ID, ratelimit.PlanLimit(p.Account.Plan))
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed", slog.String("request_id", requestID(c)), slog.Any("error", err))
			return apierror.Internal(err)
		}
		res.SetHeaders(c.Response().Header())
		if !res.Allowed {
			return apierror.RateLimited("Rate limit exceeded; retry after %s", seconds(res.RetryAfterSeconds()))
		}
		ctx = context.WithValue(ctx, rateKey{}, rateDecision{Limit: res.Limit, Remaining: res.Remaining, Reset: res.ResetUnix()})
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func seconds(n int64) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.FormatInt(n, 10) + " seconds"
}

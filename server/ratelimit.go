package server

import (
	"log/slog"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// rateLimit counts the request against its account's plan. Its decision
// goes to the exchange, which sets the rate-limit headers on whatever
// answer the request gets, errors included.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		p, _ := principalFrom(ctx)
		res, err := s.limit.Allow(ctx, p.Account.ID, ratelimit.PlanLimit(p.Account.Plan))
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed", slog.String("request_id", requestID(c)), slog.Any("error", err))
			return axiom.Internal(err)
		}
		exchangeOf(c).rate = &res
		if !res.Allowed {
			return axiom.Errorf(axiom.CodeRateLimitExceeded, "Rate limit exceeded; retry after %s", seconds(res.RetryAfterSeconds()))
		}
		return next(c)
	}
}

// throttleLinks admits a hit of a public link within the bucket of its
// token and that of its client address: 429 past either, so that a token
// fetched in a loop costs neither the database nor the other accounts.
func (s *Server) throttleLinks(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		for _, b := range []struct {
			key   string
			limit ratelimit.Limit
		}{{"link-addr:" + c.RealIP(), s.linkAddr}, {linkKey(c), s.linkToken}} {
			res, err := s.limit.Allow(ctx, b.key, b.limit)
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed", slog.String("request_id", requestID(c)), slog.Any("error", err))
				return axiom.Internal(err)
			}
			if !res.Allowed {
				exchangeOf(c).rate = &res
				return axiom.Errorf(axiom.CodeRateLimitExceeded, "Too many requests for this link; retry after %s", seconds(res.RetryAfterSeconds()))
			}
		}
		return next(c)
	}
}

// linkKey names the bucket of one public link: a message's token is in
// its pixel and in each of its tracked links (with a position), and each
// of those links has a bucket of its own, as when each had its own token.
func linkKey(c echo.Context) string {
	key := "link:" + c.Path() + ":" + truncate(c.Param("token"), 32)
	if p := c.Param("position"); p != "" {
		key += "/" + truncate(p, 16)
	}
	return key
}

func seconds(n int64) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.FormatInt(n, 10) + " seconds"
}

package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/server/fault"
)

// injectFaults is the pipeline's fault stage, mounted only when
// Config.Faults is set: a request a rule picks is delayed, answered with
// the rule's error, or marked to have its connection closed half-way
// through the answer. It runs after rate limiting, so that a faulted
// request counts like any other, and before anything else is done with it.
func (s *Server) injectFaults(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		x := exchangeOf(c)
		p, _ := principalFrom(r.Context())
		req := fault.Request{Method: r.Method, Path: r.URL.Path, KeyHash: p.Key.Hash, KeyID: p.Key.ID}
		if x.op != nil {
			req.Operation = x.op.ID()
		}
		f, ok := s.faults.Match(req)
		if !ok {
			return next(c)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "fault injected", slog.String("request_id", requestID(c)),
			slog.String("rule", f.Rule), slog.String("operation", req.Operation), slog.Int("status", f.Status),
			slog.Duration("latency", f.Latency), slog.Bool("close", f.Close))
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return r.Context().Err()
			case <-t.C:
			}
		}
		x.abort = f.Close
		if f.Status == 0 {
			return next(c)
		}
		if f.Status == http.StatusTooManyRequests {
			x.rate = exhausted(x.rate, p.Account.Plan, f.RetryAfter)
		} else if f.RetryAfter > 0 {
			c.Response().Header().Set(ratelimit.HeaderRetryAfter, strconv.Itoa(f.RetryAfter))
		}
		return &axiom.Error{Code: f.Code, Message: f.Message}
	}
}

// exhausted is the decision of a bucket with nothing left that admits a
// request again after retryAfter seconds, as a real 429 reports it.
func exhausted(decided *ratelimit.Result, plan axiom.Plan, retryAfter int) *ratelimit.Result {
	l := ratelimit.PlanLimit(plan)
	now := time.Now()
	if decided != nil {
		now, l.Rate = decided.At, decided.Limit
	}
	return &ratelimit.Result{
		Allowed: false, Limit: l.Rate, Remaining: 0, At: now,
		RetryAfter: time.Duration(retryAfter) * time.Second,
		ResetAt:    now.Add(time.Duration(l.Burst) * l.Interval()),
	}
}

// abort sends the status, the headers and half the body of the answer,
// then drops the connection: http.ErrAbortHandler makes net/http close it
// without a log line.
func abort(w http.ResponseWriter, status int, body []byte, head bool) {
	w.Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if !head {
		w.Write(body[:len(body)/2])
	}
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

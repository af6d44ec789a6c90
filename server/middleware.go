package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
)

const headerRequestID = "X-Request-Id"

// withRequestID gives every request an id, sent back in X-Request-Id and logged.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := axiom.NewID(axiom.PrefixRequest, time.Now())
		c.Set(headerRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	id, _ := c.Get(headerRequestID).(string)
	return id
}

// withSecurityHeaders sets the headers a JSON API sends on every response.
func withSecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// refuseAmbiguousFraming refuses a request on a connection that carried
// both Content-Length and Transfer-Encoding (a request-smuggling attempt,
// RFC 9112 §6.1), and closes the connection after the answer.
func refuseAmbiguousFraming(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ambiguousFraming(c.Request().Context()) {
			c.Response().Header().Set("Connection", "close")
			return axiom.Errorf(axiom.CodeInvalidParameter,
				"A request must not have both Content-Length and Transfer-Encoding; the connection is closed")
		}
		return next(c)
	}
}

// withBodyLimit refuses a body larger than max: at once when Content-Length
// says so, otherwise when reading passes the limit (*http.MaxBytesError).
func withBodyLimit(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > max {
				return axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is larger than %d bytes", max)
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
			}
			return next(c)
		}
	}
}

// withRecover turns a panic outside the pipeline (which recovers its own)
// into a 500 error, logged with its stack; the client sees only the envelope.
func (s *Server) withRecover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err = axiom.Internal(fmt.Errorf("panic: %v", v))
				s.log.LogAttrs(c.Request().Context(), slog.LevelError, "panic",
					slog.String("request_id", requestID(c)), slog.Any("panic", v),
					slog.String("stack", string(debug.Stack())))
			}
		}()
		return next(c)
	}
}

// withAccessLog logs one line per request; never a key, never a body.
func (s *Server) withAccessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Duration("latency", time.Since(start)),
		}
		if p, ok := principalFrom(c.Request().Context()); ok {
			attrs = append(attrs, slog.String("account", p.Account.ID))
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

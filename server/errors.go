package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/store"
)

// handleError is Echo's HTTPErrorHandler: the one place where every error,
// the framework's included, becomes the API's error envelope.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "error after response was sent",
			slog.String("request_id", requestID(c)), slog.Any("error", err))
		return
	}
	e := toAPIError(err, c.Request())
	if e.Status >= 500 {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestID(c)), slog.String("method", c.Request().Method),
			slog.String("route", c.Path()), slog.Any("error", err))
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(e.Status)
	} else {
		werr = c.JSON(e.Status, e.Envelope())
	}
	if werr != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelDebug, "writing error response",
			slog.String("request_id", requestID(c)), slog.Any("error", werr))
	}
}

// toAPIError maps any error to the API error a client receives.
func toAPIError(err error, r *http.Request) *apierror.Error {
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := fmt.Sprint(he.Message)
		switch he.Code {
		case http.StatusNotFound:
			return apierror.NotFound("The path '%s' does not exist", truncate(r.URL.Path, 200))
		case http.StatusMethodNotAllowed:
			return apierror.MethodNotAllowed("The method %s is not allowed on '%s'", r.Method, truncate(r.URL.Path, 200))
		case http.StatusRequestEntityTooLarge:
			return apierror.PayloadTooLarge("The request body is too large")
		case http.StatusUnsupportedMediaType:
			return apierror.UnsupportedMediaType("The request body must be sent as application/json")
		case http.StatusBadRequest:
			// The generated parameter binding reports "Invalid format for parameter x: …".
			return apierror.InvalidParameter("%s", truncate(msg, 300))
		case http.StatusUnauthorized:
			return apierror.Unauthorized("%s", msg)
		case http.StatusForbidden:
			return apierror.Forbidden("%s", msg)
		}
		if he.Code >= 400 && he.Code < 500 {
			return apierror.InvalidParameter("%s", truncate(msg, 300))
		}
		return apierror.Internal(err)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apierror.PayloadTooLarge("The request body is larger than %d bytes", mbe.Limit)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierror.NotFound("The resource does not exist")
	case errors.Is(err, store.ErrDuplicate):
		return apierror.Duplicate("The entry already exists")
	}
	return apierror.Internal(err)
}

// truncate keeps messages short when they quote what a client sent.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

// handleError is Echo's HTTPErrorHandler, for the errors of requests that
// never reached the pipeline (an unknown path, a wrong method).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.log.LogAttrs(c.Request().Context(), slog.LevelWarn, "error after response was sent",
			slog.String("request_id", requestID(c)), slog.Any("error", err))
		return
	}
	s.writeError(c, err)
}

// writeError answers err: the one place where an error becomes the API's
// envelope and status. An internal error is logged with its cause.
func (s *Server) writeError(c echo.Context, err error) {
	r := c.Request()
	e := toAPIError(err, r)
	if e.Code == axiom.CodeInternal {
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestID(c)), slog.String("method", r.Method),
			slog.String("route", c.Path()), slog.Any("error", err))
	}
	writeEnvelope(c.Response(), r, e)
}

// maxMessage bounds an error's message in bytes, within the spec's
// maxLength of 2000 characters, whatever a client's input it quotes.
const maxMessage = 1000

// writeEnvelope writes the status and envelope of e on w; ServeHTTP drops
// the body of a HEAD response.
func writeEnvelope(w http.ResponseWriter, r *http.Request, e *axiom.Error) {
	body, err := json.Marshal(gen.Error{Error: gen.ErrorDetail{
		Code:             gen.ErrorCode(e.Code),
		Message:          truncate(e.Message, maxMessage),
		DocumentationURL: e.Code.DocumentationURL(),
	}})
	if err != nil { // cannot happen: strings and a string type only
		body = []byte(`{"error":{"code":"internal_error","message":"An internal error occurred"}}`)
	}
	h := w.Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	body = append(body, '\n')
	if r.Method == http.MethodHead {
		h.Set(echo.HeaderContentLength, strconv.Itoa(len(body))) // the GET's
	}
	w.WriteHeader(e.Code.Status())
	w.Write(body)
}

// toAPIError maps any error to the API error a client receives: an
// *axiom.Error it wraps, the framework's errors by their status, and
// anything else as an internal error whose cause is never sent.
func toAPIError(err error, r *http.Request) *axiom.Error {
	if ae, ok := errors.AsType[*axiom.Error](err); ok {
		return ae
	}
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		msg := truncate(fmt.Sprint(he.Message), 300)
		switch he.Code {
		case http.StatusNotFound:
			return axiom.Errorf(axiom.CodeNotFound, "The path '%s' does not exist", truncate(r.URL.Path, 200))
		case http.StatusMethodNotAllowed:
			return axiom.Errorf(axiom.CodeMethodNotAllowed, "The method %s is not allowed on '%s'", r.Method, truncate(r.URL.Path, 200))
		case http.StatusRequestEntityTooLarge:
			return axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is too large")
		case http.StatusUnsupportedMediaType:
			return axiom.Errorf(axiom.CodeUnsupportedMediaType, "The request body must be sent as application/json")
		}
		// The generated parameter binding reports "Invalid format for parameter x: …".
		if code := axiom.CodeForStatus(he.Code); code != "" && code != axiom.CodeInternal {
			return &axiom.Error{Code: code, Message: msg, Err: err}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &axiom.Error{Code: axiom.CodeInvalidParameter, Message: msg, Err: err}
		}
		return axiom.Internal(err)
	}
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is larger than %d bytes", tooLarge.Limit)
	}
	return axiom.Internal(err)
}

// truncate keeps messages short when they quote what a client sent.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

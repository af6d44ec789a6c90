package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/validation"
)

// The pipeline of an API request, in the order server.New mounts it:
//
//	respond        buffer the response; at the end set the rate-limit
//	               headers, validate the response, settle the
//	               Idempotency-Key, send
//	authenticate   401 without a valid key
//	rateLimit      429 over the plan's rate; records the headers
//	injectFaults   the fault a rule picks this request for (only with
//	               Config.Faults)
//	authorize      403 for a read-only key that writes
//	readBody       the body, read once (413, 400)
//	idempotent     claim the Idempotency-Key, or replay its answer
//	validate       400/415 for a request the spec refuses
//	handler        the generated strict handler and ours
//
// The public operations (the links in campaign messages) take respond,
// readBody and validate only. Every stage shares the request's exchange.

// exchange is what the stages of one request share. It is the response
// writer of the request while the pipeline runs: the response is buffered
// once, here, for every stage that needs it whole.
type exchange struct {
	w      http.ResponseWriter // the connection's writer
	status int                 // 0 until the handler writes
	body   bytes.Buffer

	rate   *ratelimit.Result // the rate-limit decision, nil before (or without) one
	input  []byte            // the request body
	op     *validation.Operation
	params map[string]string
	claim  *axiom.IdempotencyRecord // the Idempotency-Key this request holds
	abort  bool                     // a fault closes the connection half-way through the answer
}

func (x *exchange) Header() http.Header { return x.w.Header() }

func (x *exchange) WriteHeader(status int) {
	if x.status == 0 && status >= 200 {
		x.status = status
	}
}

func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	return x.body.Write(p)
}

// available is the unused end of the body's buffer, grown to at least n
// bytes, for a body appended there and written at once (bodyBuffer).
func (x *exchange) available(n int) []byte {
	x.body.Grow(n)
	return x.body.AvailableBuffer()
}

// Flush does nothing: the whole response is sent at the end.
func (x *exchange) Flush() {}

// reset forgets what was written, to write another answer.
func (x *exchange) reset(c echo.Context) {
	x.status = 0
	x.body.Reset()
	res := c.Response()
	res.Committed, res.Status, res.Size = false, http.StatusOK, 0
	for _, name := range []string{echo.HeaderContentType, echo.HeaderContentLength, echo.HeaderContentEncoding} {
		res.Header().Del(name)
	}
}

const exchangeKey = "axiom.exchange"

// exchangeOf is the request's exchange; respond puts it there first.
func exchangeOf(c echo.Context) *exchange {
	x, _ := c.Get(exchangeKey).(*exchange)
	return x
}

// maxPooledBuffer keeps a rare huge response from pinning its buffer.
const maxPooledBuffer = 1 << 20

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// respond runs the rest of the pipeline with the response buffered, renders
// the error it returns, and finishes the response: the rate-limit headers,
// its validation, the Idempotency-Key's answer, then the bytes sent.
func (s *Server) respond(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		res := c.Response()
		x := exchanges.Get().(*exchange)
		x.w = res.Writer
		res.Writer = x
		c.Set(exchangeKey, x)
		defer func() {
			res.Writer = x.w
			if x.body.Cap() <= maxPooledBuffer {
				*x = exchange{body: x.body}
				x.body.Reset()
				exchanges.Put(x)
			}
		}()
		if x.op, x.params, err = s.validator.Find(c); err != nil {
			return axiom.Internal(err)
		}
		if err := s.recovering(c, next); err != nil {
			s.writeError(c, err)
		}
		return s.finish(c, x)
	}
}

// recovering runs next, turning a panic into an internal error.
func (s *Server) recovering(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(c.Request().Context(), slog.LevelError, "panic",
				slog.String("request_id", requestID(c)), slog.Any("panic", v),
				slog.String("stack", string(debug.Stack())))
			exchangeOf(c).reset(c)
			err = axiom.Internal(fmt.Errorf("panic: %v", v))
		}
	}()
	return next(c)
}

// finish completes the buffered response and sends it.
func (s *Server) finish(c echo.Context, x *exchange) error {
	r := c.Request()
	h := x.w.Header()
	if x.rate != nil {
		x.rate.SetHeaders(h)
	}
	if x.op != nil && s.validator.Mode() != validation.ResponseOff {
		status := x.status
		if status == 0 {
			status = http.StatusOK // what net/http sends for a handler that wrote nothing
		}
		if verr := s.validator.CheckResponse(x.op, r.Method, status, h, x.body.Bytes()); verr != nil {
			enforce := s.validator.Mode() == validation.ResponseEnforce
			level := slog.LevelWarn
			if enforce {
				level = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), level, "response does not conform to the API spec",
				slog.String("request_id", requestID(c)), slog.String("method", r.Method),
				slog.String("route", c.Path()), slog.Any("error", verr))
			if enforce {
				x.reset(c)
				s.writeError(c, axiom.Internal(verr))
				if x.rate != nil {
					x.rate.SetHeaders(h)
				}
			}
		}
	}
	if x.claim != nil {
		s.idem.settle(c, x)
	}
	if x.status == 0 && x.body.Len() == 0 {
		return nil // nothing written: net/http sends 200 with no body
	}
	if x.abort {
		abort(x.w, x.status, x.body.Bytes(), r.Method == http.MethodHead)
	}
	if r.Method == http.MethodHead {
		h.Set(echo.HeaderContentLength, strconv.Itoa(x.body.Len())) // the GET's length
	}
	x.w.WriteHeader(x.status)
	if x.body.Len() > 0 && r.Method != http.MethodHead {
		if _, err := x.w.Write(x.body.Bytes()); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "sending the response",
				slog.String("request_id", requestID(c)), slog.Any("error", err))
		}
	}
	return nil
}

// readBody reads the request body once, for every stage after it: the
// Idempotency-Key's hash, validation and the handler's binding.
func readBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		var buf bytes.Buffer
		if n := r.ContentLength; n > 0 && n <= 1<<20 {
			buf.Grow(int(n) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(r.Body)
		if err != nil {
			if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is larger than %d bytes", tooLarge.Limit)
			}
			// A truncated or malformed (chunked) body is the client's fault.
			return &axiom.Error{Code: axiom.CodeInvalidParameter, Message: "The request body could not be read", Err: err}
		}
		data := buf.Bytes()
		exchangeOf(c).input = data
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		r.ContentLength = int64(len(data))
		return next(c)
	}
}

// validate checks the request against the spec before its handler runs.
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkQuery(c.Request().URL.RawQuery); err != nil {
			return err
		}
		x := exchangeOf(c)
		if x.op != nil {
			if err := s.validator.ValidateRequest(c, x.op, x.params, x.input); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// checkQuery refuses a query string Go would parse only in part: a pair
// holding a semicolon, or a bad %-escape, which url.ParseQuery drops
// silently, so that the request would run without the parameter sent.
func checkQuery(raw string) error {
	if _, err := url.ParseQuery(raw); err == nil {
		return nil
	}
	for _, pair := range strings.Split(raw, "&") {
		name, value, _ := strings.Cut(pair, "=")
		_, nerr := url.QueryUnescape(name)
		_, verr := url.QueryUnescape(value)
		if strings.Contains(pair, ";") || nerr != nil || verr != nil {
			if i := strings.IndexByte(name, ';'); i >= 0 {
				name = name[:i]
			}
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			return axiom.Errorf(axiom.CodeInvalidParameter,
				"The query parameter '%s' cannot be parsed: a query string may not hold ';' and its %%-escapes must be valid",
				truncate(name, 64))
		}
	}
	return axiom.Errorf(axiom.CodeInvalidParameter, "The query string cannot be parsed")
}

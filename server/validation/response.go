package validation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/server/apierror"
)

// bufferedWriter holds a response back until it has been validated. Its
// header map is the real writer's, so headers set before the handler ran
// (rate limits, request id) are kept whatever happens to the body.
type bufferedWriter struct {
	w      http.ResponseWriter
	status int // 0 until the handler writes
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.w.Header() }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 && status >= 200 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Flush does nothing: the whole response is sent once validated.
func (b *bufferedWriter) Flush() {}

// maxPooledBuffer keeps a rare huge response from pinning its buffer.
const maxPooledBuffer = 1 << 20

func (v *Validator) getWriter(w http.ResponseWriter) *bufferedWriter {
	b, _ := v.writers.Get().(*bufferedWriter)
	if b == nil {
		b = new(bufferedWriter)
	}
	b.w = w
	return b
}

func (v *Validator) putWriter(b *bufferedWriter) {
	if b.body.Cap() > maxPooledBuffer {
		return
	}
	b.w, b.status = nil, 0
	b.body.Reset()
	v.writers.Put(b)
}

// serveValidated runs the handler with the response buffered, renders the
// error it returns (so that error responses are validated too), validates
// the result and sends it, or in enforce mode a 500 in place of a response
// that breaks the spec.
func (v *Validator) serveValidated(c echo.Context, next echo.HandlerFunc, op *operation) error {
	res := c.Response()
	orig := res.Writer
	bw := v.getWriter(orig)
	res.Writer = bw
	done := false
	defer func() {
		res.Writer = orig
		if !done {
			// A panic is on its way up and nothing was sent: let whoever
			// recovers it answer.
			res.Committed, res.Status, res.Size = false, http.StatusOK, 0
		}
		v.putWriter(bw)
	}()

	if err := next(c); err != nil {
		c.Error(err)
	}
	done = true
	res.Writer = orig

	status := bw.status
	if status == 0 {
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
	}
	verr := v.checkResponse(op, c.Request().Method, status, res.Header(), bw.body.Bytes())
	if verr != nil && v.mode == ResponseEnforce {
		v.logViolation(c.Request().Context(), slog.LevelError, c, verr)
		h := res.Header()
		for _, name := range []string{echo.HeaderContentType, echo.HeaderContentLength, echo.HeaderContentEncoding} {
			h.Del(name)
		}
		res.Committed, res.Status, res.Size = false, http.StatusOK, 0
		c.Error(apierror.Internal(verr))
		return nil
	}
	if verr != nil {
		v.logViolation(c.Request().Context(), slog.LevelWarn, c, verr)
	}
	if bw.status == 0 && bw.body.Len() == 0 {
		return nil
	}
	orig.WriteHeader(status)
	if bw.body.Len() > 0 {
		if _, err := orig.Write(bw.body.Bytes()); err != nil {
			return fmt.Errorf("validation: sending the response: %w", err)
		}
	}
	return nil
}

// ResponseError is a response that does not conform to the spec.
type ResponseError struct {
	Operation string // the operationId
	Status    int
	Problem   string // what is wrong, without the offending value
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("response %d of %s does not conform to the API spec: %s", e.Status, e.Operation, e.Problem)
}

// checkResponse validates a response to op: its status is documented, its
// headers and its body are.
func (v *Validator) checkResponse(op *operation, method string, status int, h http.Header, body []byte) error {
	fail := func(format string, args ...any) error {
		return &ResponseError{Operation: op.id, Status: status, Problem: fmt.Sprintf(format, args...)}
	}
	resp := op.documented(status)
	if resp == nil {
		return fail("the status is not documented")
	}
	for _, hd := range resp.headers {
		if problem := v.checkHeader(hd, h[hd.name]); problem != "" {
			return fail("%s", problem)
		}
	}
	if len(resp.content) == 0 {
		if len(body) > 0 {
			return fail("it has a body, but none is documented")
		}
		return nil
	}
	if method == http.MethodHead {
		return nil
	}
	ct := h.Get(echo.HeaderContentType)
	mt := resp.content.Get(ct)
	if mt == nil {
		return fail("Content-Type %q is not documented", clip(ct))
	}
	if mt.Schema == nil || mt.Schema.Value == nil || !isJSON(ct) {
		return nil
	}
	if fs := v.fast[mt]; fs != nil {
		err := validateJSON(fs, body)
		if err == nil {
			return nil
		}
		// Let kin-openapi explain, in the terms requests are answered in.
		problem := v.checkBody(mt.Schema.Value, body)
		if problem == "" {
			problem = "the body does not match its schema: " + err.Error()
		}
		return fail("%s", problem)
	}
	if problem := v.checkBody(mt.Schema.Value, body); problem != "" {
		return fail("%s", problem)
	}
	return nil
}

// checkBody validates body with kin-openapi, returning what is wrong or "".
func (v *Validator) checkBody(schema *openapi3.Schema, body []byte) string {
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return "the body is not valid JSON: " + err.Error()
	}
	if err := schema.VisitJSON(value, v.bodyOpts...); err != nil {
		if se := firstSchemaError(err); se != nil {
			return schemaMessage(schema, se, "the body", "the body field")
		}
		return "the body does not match its schema: " + err.Error()
	}
	return ""
}

// checkHeader validates the values of one documented header, returning
// what is wrong or "".
func (v *Validator) checkHeader(hd header, values []string) string {
	if len(values) == 0 {
		if hd.required {
			return "the header " + hd.name + " is missing"
		}
		return ""
	}
	if hd.schema == nil {
		return ""
	}
	if len(values) > 1 {
		return "the header " + hd.name + " is sent more than once"
	}
	value, ok := headerValue(hd.schema, values[0])
	if !ok {
		return "the header " + hd.name + " must be " + typeNoun(hd.schema)
	}
	if err := hd.schema.VisitJSON(value, v.headOpts...); err != nil {
		if se := firstSchemaError(err); se != nil {
			return "the header " + hd.name + " " + predicate(se)
		}
		return "the header " + hd.name + " is invalid"
	}
	return ""
}

// headerValue decodes a header of a primitive type, as the simple style
// serialises it.
func headerValue(schema *openapi3.Schema, s string) (any, bool) {
	s = strings.TrimSpace(s)
	switch {
	case schema.Type.Is(openapi3.TypeInteger):
		n, err := strconv.ParseInt(s, 10, 64)
		return float64(n), err == nil
	case schema.Type.Is(openapi3.TypeNumber):
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !strings.ContainsAny(s, "nNiIxX_")
	case schema.Type.Is(openapi3.TypeBoolean):
		return s == "true", s == "true" || s == "false"
	}
	return s, true
}

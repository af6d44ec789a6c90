package validation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// ResponseError is a response that does not conform to the spec.
type ResponseError struct {
	Operation string // the operationId
	Status    int
	Problem   string // what is wrong, without the offending value
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("response %d of %s does not conform to the API spec: %s", e.Status, e.Operation, e.Problem)
}

// CheckResponse validates a response to op: its status is documented, its
// headers and its body are. It returns a *ResponseError when they are not.
func (v *Validator) CheckResponse(op *Operation, method string, status int, h http.Header, body []byte) error {
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

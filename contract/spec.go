package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/axiomkit/axiom"
)

// operation is one operation of the spec, with what validation needs.
type operation struct {
	id         string
	method     string
	path       string // the spec's template, "/leads/{id}"
	documented bool
	public     bool // security: [], no key needed
	tags       []string
	op         *openapi3.Operation
	// route validates status and headers; bodyRoute, whose responses have
	// no headers, validates content type and body on their own, so that a
	// missing header does not hide a bad body.
	route, bodyRoute *routers.Route
}

// statuses lists the documented statuses, for messages.
func (o *operation) statuses() string {
	if o.op.Responses == nil {
		return ""
	}
	keys := o.op.Responses.Keys()
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// documentedStatus reports whether status is documented for o.
func (o *operation) documentedStatus(status int) bool {
	if o.op.Responses == nil {
		return false
	}
	return o.op.Responses.Status(status) != nil || o.op.Responses.Default() != nil
}

// requestSchema is the JSON schema of o's request body, or nil.
func (o *operation) requestSchema() *openapi3.Schema {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return nil
	}
	mt := o.op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// parameters are o's parameters of one location, its path item's included.
func (o *operation) parameters(in string) []*openapi3.Parameter {
	var ps []*openapi3.Parameter
	for _, list := range []openapi3.Parameters{o.route.PathItem.Parameters, o.op.Parameters} {
		for _, ref := range list {
			if ref != nil && ref.Value != nil && ref.Value.In == in {
				ps = append(ps, ref.Value)
			}
		}
	}
	return ps
}

// loadOperations indexes the spec's operations by operationId.
func loadOperations(doc *openapi3.T) (map[string]*operation, error) {
	ops := make(map[string]*operation)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				return nil, fmt.Errorf("%s %s has no operationId", method, path)
			}
			documented, _ := op.Extensions["x-axiom-documented"].(bool)
			public := op.Security != nil && len(*op.Security) == 0
			bodyOp := *op
			bodyOp.Responses = openapi3.NewResponses()
			if op.Responses != nil {
				for code, ref := range op.Responses.Map() {
					if ref == nil || ref.Value == nil {
						return nil, fmt.Errorf("%s: response %s is not resolved", op.OperationID, code)
					}
					resp := *ref.Value
					resp.Headers = nil
					bodyOp.Responses.Set(code, &openapi3.ResponseRef{Value: &resp})
				}
			}
			ops[op.OperationID] = &operation{
				id: op.OperationID, method: method, path: path, documented: documented, public: public, tags: op.Tags, op: op,
				route:     &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
				bodyRoute: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: &bodyOp},
			}
		}
	}
	return ops, nil
}

// textSchema is the string schema the spec documents for a response's
// text media type that kin-openapi has no decoder for (text/html).
func (o *operation) textSchema(status int, header http.Header) (*openapi3.Schema, bool) {
	mt, _, _ := strings.Cut(header.Get("Content-Type"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if !strings.HasPrefix(mt, "text/") || openapi3filter.RegisteredBodyDecoder(mt) != nil || o.op.Responses == nil {
		return nil, false
	}
	ref := o.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil, false
	}
	m := ref.Value.Content.Get(mt)
	if m == nil || m.Schema == nil || m.Schema.Value == nil || schemaType(m.Schema.Value) != "string" {
		return nil, false
	}
	return m.Schema.Value, true
}

// formatOptions check the string formats the spec uses that kin-openapi
// leaves unchecked by default (date-time it checks itself).
func formatOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
		"email": openapi3.NewCallbackValidator(axiom.CheckEmail),
		"uri":   openapi3.NewCallbackValidator(checkURI),
	})}
}

func checkURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || strings.ContainsAny(s, " \t\r\n") {
		return errors.New("not an absolute URI")
	}
	return nil
}

// validate checks a decoded JSON value against a schema of the spec.
func validate(s *openapi3.Schema, v any) error {
	return s.VisitJSON(v, append(formatOptions(), openapi3.MultiErrors())...)
}

// roundTrip turns a Go value into what encoding/json decodes it to, the
// form kin-openapi validates.
func roundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// conformance is the outcome of validating one response against the spec.
type conformance struct {
	status      error
	headers     error
	contentType error // nil also when the status documents no body
	body        error
	bodyChecked bool // false when the content type left nothing to check
}

// validateResponse checks a response with kin-openapi in three passes, so
// that each named check reports its own failure.
func validateResponse(ctx context.Context, o *operation, req *http.Request, status int, header http.Header, body []byte) conformance {
	var c conformance
	if !o.documentedStatus(status) {
		c.status = fmt.Errorf("status %d is not documented for %s (documented: %s)", status, o.id, o.statuses())
		return c
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		ExcludeResponseBody:     true,
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: formatOptions(),
	}
	in := func(route *routers.Route, o *openapi3filter.Options) *openapi3filter.ResponseValidationInput {
		return &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: o},
			Status:                 status,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                o,
		}
	}
	if err := openapi3filter.ValidateResponse(ctx, in(o.route, opts)); err != nil {
		c.headers = describe(err)
	}
	if req.Method == http.MethodHead {
		return c // HEAD answers GET's headers without the body
	}
	if s, ok := o.textSchema(status, header); ok {
		// kin-openapi decodes no text/html; such a body is a string to validate as one.
		c.bodyChecked = true
		if err := validate(s, string(body)); err != nil {
			c.body = fmt.Errorf("the %s body does not match its schema: %w", header.Get("Content-Type"), shorten(err))
		}
		return c
	}
	bodyOpts := *opts
	bodyOpts.ExcludeResponseBody = false
	err := openapi3filter.ValidateResponse(ctx, in(o.bodyRoute, &bodyOpts))
	var re *openapi3filter.ResponseError
	switch {
	case err == nil:
		c.bodyChecked = true
	case errors.As(err, &re) && strings.Contains(re.Reason, "Content-Type"):
		c.contentType = fmt.Errorf("Content-Type %q is not documented for status %d of %s", header.Get("Content-Type"), status, o.id)
	default:
		c.bodyChecked = true
		c.body = describe(err)
	}
	return c
}

// describe shortens kin-openapi's errors, which embed whole schemas, to
// their reasons and the JSON pointers of the values at fault.
func describe(err error) error {
	var re *openapi3filter.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	var parts []string
	var walk func(error)
	walk = func(e error) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		switch {
		case errors.As(e, &me):
			for _, x := range me {
				walk(x)
			}
		case errors.As(e, &se):
			ptr := "/" + strings.Join(se.JSONPointer(), "/")
			parts = append(parts, fmt.Sprintf("at %s: %s", ptr, se.Reason))
		case e != nil:
			parts = append(parts, e.Error())
		}
	}
	walk(re.Err)
	msg := re.Reason
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
	}
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	return errors.New(msg)
}

// errorCodes are the API's error codes by status, as the domain defines
// them (a test of the module root holds them equal to the spec's table).
func errorCodes() map[int][]string {
	codes := map[int][]string{}
	for _, c := range axiom.ErrorCodes() {
		codes[c.Status()] = append(codes[c.Status()], string(c))
	}
	return codes
}

// checkEnvelope checks an error response's body against the Error schema,
// whether or not the status is documented, and its code against the status.
func checkEnvelope(errSchema *openapi3.Schema, errorCodes map[int][]string, status int, header http.Header, body []byte) (code string, err error) {
	var v any
	if jerr := json.Unmarshal(body, &v); jerr != nil {
		return "", fmt.Errorf("error body is not JSON (Content-Type %q): %q", header.Get("Content-Type"), truncate(string(body), 80))
	}
	if verr := validate(errSchema, v); verr != nil {
		return "", fmt.Errorf("error body is not the error envelope: %w", shorten(verr))
	}
	detail, _ := v.(map[string]any)["error"].(map[string]any)
	code, _ = detail["code"].(string)
	if want, ok := errorCodes[status]; ok && !slices.Contains(want, code) {
		return code, fmt.Errorf("status %d carries code %q; the spec gives it %s", status, code, strings.Join(want, " or "))
	}
	if doc, _ := detail["documentation_url"].(string); !strings.HasSuffix(doc, "#"+code) {
		return code, fmt.Errorf("documentation_url %q does not end with #%s", doc, code)
	}
	return code, nil
}

// shorten is describe for errors of validate.
func shorten(err error) error {
	var me openapi3.MultiError
	var se *openapi3.SchemaError
	switch {
	case errors.As(err, &me):
		var parts []string
		for _, e := range me {
			parts = append(parts, shorten(e).Error())
		}
		return errors.New(strings.Join(parts, "; "))
	case errors.As(err, &se):
		return fmt.Errorf("at /%s: %s", strings.Join(se.JSONPointer(), "/"), se.Reason)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// plan figures of the spec's rate-limit table, by X-RateLimit-Limit.
var burstByRate = func() map[int]int {
	m := map[int]int{}
	for _, p := range axiom.Plans() {
		m[p.RateLimit().Rate] = p.RateLimit().Burst
	}
	return m
}()

// rateHeaders are the parsed rate-limit headers of one response.
type rateHeaders struct {
	limit, remaining int
	reset            int64
}

func parseRateHeaders(h http.Header) (rateHeaders, error) {
	var rh rateHeaders
	var err error
	for _, f := range []struct {
		name string
		dst  func(int64)
	}{
		{"X-RateLimit-Limit", func(v int64) { rh.limit = int(v) }},
		{"X-RateLimit-Remaining", func(v int64) { rh.remaining = int(v) }},
		{"X-RateLimit-Reset", func(v int64) { rh.reset = v }},
	} {
		s := h.Get(f.name)
		if s == "" {
			err = errors.Join(err, fmt.Errorf("%s is missing", f.name))
			continue
		}
		v, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || v < 0 {
			err = errors.Join(err, fmt.Errorf("%s is %q, not a non-negative integer", f.name, s))
			continue
		}
		f.dst(v)
	}
	return rh, err
}

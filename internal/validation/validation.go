// Package validation is the server's runtime check of the API contract:
// every request is validated against openapi.yaml before its handler runs,
// and every response before it is sent.
//
// Requests are validated with kin-openapi's openapi3filter; a failure is
// returned as an *axiom.Error (400, 413 or 415) for the server's error
// handler to render. Responses are validated with the spec's schemas once
// the server's pipeline has buffered them; what happens to one that does
// not conform is set by a Mode, which the pipeline applies.
package validation

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"
)

// Mode says what happens to a response that does not conform to the spec.
type Mode int

const (
	// ResponseEnforce replaces it with a 500 internal_error and logs the
	// violation at error level. It is the zero value: the strictest.
	ResponseEnforce Mode = iota
	// ResponseLog sends it as it is and logs the violation at warn level.
	ResponseLog
	// ResponseOff does not validate responses, nor buffer them.
	ResponseOff
)

var modeNames = [...]string{ResponseEnforce: "enforce", ResponseLog: "log", ResponseOff: "off"}

func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return "Mode(" + strconv.Itoa(int(m)) + ")"
	}
	return modeNames[m]
}

// ParseMode reads "enforce", "log" or "off".
func ParseMode(s string) (Mode, error) {
	for m, name := range modeNames {
		if s == name {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("unknown response validation mode %q: want enforce, log or off", s)
}

// Options configure a Validator.
type Options struct {
	// Responses says what happens to a response that breaks the spec.
	Responses Mode
	// SkipRequests lets requests through unvalidated, so that load runs can
	// measure what validating them costs. Never for serving clients: the
	// handlers rely on the validated ranges and formats.
	SkipRequests bool
	// BasePath is the prefix the API's paths are mounted under. Empty means
	// the path of the spec's first server URL ("/v1"), on any host.
	BasePath string
}

// Validator validates requests and responses against one OpenAPI document.
// It is safe for concurrent use.
type Validator struct {
	doc *openapi3.T
	// router routes the URL of requests Echo routed elsewhere than the
	// generated routes. Built on first use: building it validates the
	// whole document, a third of the cost of New, and the server never
	// needs it.
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
	// byRoute finds an Operation from the Echo route that matched, without
	// routing the URL again; byOp serves requests the router had to find.
	byRoute map[routeKey]*Operation
	byOp    map[*openapi3.Operation]*Operation

	request  *openapi3filter.Options
	fast     map[*openapi3.MediaType]*fastSchema // compiled response schemas
	bodyOpts []openapi3.SchemaValidationOption   // response bodies
	headOpts []openapi3.SchemaValidationOption   // response headers

	mode         Mode
	skipRequests bool
}

// routeKey is an Echo route: the request's method and c.Path().
type routeKey struct{ method, path string }

// Operation is what validation needs of one operation, resolved once.
type Operation struct {
	route     *routers.Route
	id        string
	body      *openapi3.RequestBody // nil when the Operation takes none
	single    []string              // query parameters that take one value
	responses map[int]*response
	ranges    [6]*response // "1XX" to "5XX", by status/100
	fallback  *response    // "default"
}

// response is one documented response of an Operation.
type response struct {
	headers []header
	content openapi3.Content // empty when the response has no body
}

// header is one documented response header.
type header struct {
	name     string // canonical
	required bool
	schema   *openapi3.Schema
}

// New builds a Validator for doc, which must have been loaded with its
// references resolved (genserver.GetSwagger does). doc is not modified, and must
// not be while the Validator is in use.
func New(doc *openapi3.T, opts Options) (*Validator, error) {
	if doc == nil {
		return nil, errors.New("validation: nil OpenAPI document")
	}
	if opts.Responses < ResponseEnforce || opts.Responses > ResponseOff {
		return nil, fmt.Errorf("validation: unknown response validation mode %d", opts.Responses)
	}
	base := opts.BasePath
	if base == "" {
		var err error
		if base, err = serverPath(doc.Servers); err != nil {
			return nil, err
		}
	}
	base = strings.TrimRight(base, "/")

	// A shallow copy whose only server is the relative base path, so that
	// routing matches whatever host and port the server listens on.
	d := *doc
	d.Servers = nil
	if base != "" {
		d.Servers = openapi3.Servers{{URL: base}}
	}
	validators := formatValidators()
	formats := openapi3.WithStringFormatValidators(validators)
	v := &Validator{
		doc:     &d,
		byRoute: make(map[routeKey]*Operation),
		byOp:    make(map[*openapi3.Operation]*Operation),
		request: &openapi3filter.Options{
			// API keys are checked by the server's authentication
			// middleware before this one runs; kin-openapi refuses a spec
			// with security schemes unless it is given a function to call.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// The generated strict handler binds the very value validated,
			// not a second, case-insensitive decoding of the body.
			KeepValidatedValue: true,
			// Handlers apply defaults to absent parameters; setting them
			// here would re-encode the query of every request.
			SkipSettingDefaults:     true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{formats},
		},
		headOpts:     []openapi3.SchemaValidationOption{formats},
		bodyOpts:     []openapi3.SchemaValidationOption{formats},
		fast:         make(map[*openapi3.MediaType]*fastSchema),
		mode:         opts.Responses,
		skipRequests: opts.SkipRequests,
	}
	var ops []*Operation
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			o, err := newOperation(&d, path, item, method, op)
			if err != nil {
				return nil, fmt.Errorf("validation: %s %s: %w", method, path, err)
			}
			v.byRoute[routeKey{method, base + echoPath(path)}] = o
			v.byOp[op] = o
			ops = append(ops, o)
		}
	}
	if writeOnlyResponses(ops) {
		// Otherwise skipped: it makes kin-openapi sort every object's
		// property names for a check that cannot fail.
		v.bodyOpts = append(v.bodyOpts, openapi3.VisitAsResponse())
		return v, nil
	}
	// Schemas shared by responses compile once. Each body starts from a
	// copy, kept only if it compiles: a failure leaves partial entries.
	compiled := make(map[*openapi3.Schema]*fastSchema)
	for _, o := range ops {
		for _, r := range o.all() {
			for _, mt := range r.content {
				if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
					continue
				}
				memo := maps.Clone(compiled)
				if fs, err := compileFast(mt.Schema.Value, validators, memo); err == nil {
					v.fast[mt] = fs
					compiled = memo
				}
			}
		}
	}
	return v, nil
}

// serverPath is the path of the first server's URL: all of them serve the
// API under the same path, on different hosts.
func serverPath(servers openapi3.Servers) (string, error) {
	if len(servers) == 0 {
		return "", nil
	}
	u, err := url.Parse(servers[0].URL)
	if err != nil {
		return "", fmt.Errorf("validation: server URL %q: %w", servers[0].URL, err)
	}
	return u.Path, nil
}

// echoPath turns an OpenAPI path template into Echo's route syntax,
// "/leads/{id}" into "/leads/:id", as the generated code registers it.
func echoPath(path string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i])
		b.WriteByte(':')
		b.WriteString(path[i+1 : j])
		path = path[j+1:]
	}
}

// writeOnlyResponses reports whether a schema of a response body has, or
// holds, a writeOnly one. It walks only what responses use: kin-openapi's
// WalkSchemas of the whole document was a seventh of a server's start.
func writeOnlyResponses(ops []*Operation) bool {
	seen := make(map[*openapi3.Schema]bool)
	var walk func(ref *openapi3.SchemaRef) bool
	walk = func(ref *openapi3.SchemaRef) bool {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return false
		}
		s := ref.Value
		seen[s] = true
		if s.WriteOnly {
			return true
		}
		for _, p := range s.Properties {
			if walk(p) {
				return true
			}
		}
		for _, p := range s.PatternProperties {
			if walk(p) {
				return true
			}
		}
		for _, p := range s.DependentSchemas {
			if walk(p) {
				return true
			}
		}
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
			for _, p := range list {
				if walk(p) {
					return true
				}
			}
		}
		for _, p := range []*openapi3.SchemaRef{s.Items, s.AdditionalProperties.Schema, s.Not, s.Contains,
			s.If, s.Then, s.Else, s.PropertyNames, s.UnevaluatedItems.Schema, s.UnevaluatedProperties.Schema} {
			if walk(p) {
				return true
			}
		}
		return false
	}
	for _, o := range ops {
		for _, r := range o.all() {
			for _, mt := range r.content {
				if mt != nil && walk(mt.Schema) {
					return true
				}
			}
		}
	}
	return false
}

func newOperation(doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*Operation, error) {
	o := &Operation{
		route: &routers.Route{
			Spec: doc, Path: path, PathItem: item, Method: method, Operation: op,
		},
		id:        op.OperationID,
		responses: make(map[int]*response),
	}
	if len(doc.Servers) > 0 {
		o.route.Server = doc.Servers[0]
	}
	if o.id == "" {
		o.id = method + " " + path
	}
	if op.RequestBody != nil {
		o.body = op.RequestBody.Value
	}
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range params {
			if p := ref.Value; p != nil && p.In == openapi3.ParameterInQuery &&
				(p.Schema == nil || p.Schema.Value == nil || !p.Schema.Value.Type.Includes(openapi3.TypeArray)) {
				o.single = append(o.single, p.Name)
			}
		}
	}
	if op.Responses == nil {
		return o, nil
	}
	for code, ref := range op.Responses.Map() {
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("response %s is not resolved", code)
		}
		r := newResponse(ref.Value)
		switch {
		case code == "default":
			o.fallback = r
		case len(code) == 3 && code[0] >= '1' && code[0] <= '5' && strings.EqualFold(code[1:], "XX"):
			o.ranges[code[0]-'0'] = r
		default:
			status, err := strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("response status %q: %w", code, err)
			}
			o.responses[status] = r
		}
	}
	return o, nil
}

func newResponse(r *openapi3.Response) *response {
	resp := &response{content: r.Content}
	for name, ref := range r.Headers {
		if ref == nil || ref.Value == nil || strings.EqualFold(name, echo.HeaderContentType) {
			continue // OpenAPI ignores a Content-Type header definition
		}
		h := header{name: http.CanonicalHeaderKey(name), required: ref.Value.Required}
		if ref.Value.Schema != nil {
			h.schema = ref.Value.Schema.Value
		}
		resp.headers = append(resp.headers, h)
	}
	return resp
}

// all returns every documented response of o.
func (o *Operation) all() []*response {
	all := make([]*response, 0, len(o.responses)+2)
	for _, r := range o.responses {
		all = append(all, r)
	}
	for _, r := range o.ranges {
		if r != nil {
			all = append(all, r)
		}
	}
	if o.fallback != nil {
		all = append(all, o.fallback)
	}
	return all
}

// documented returns the response documented for status, or nil.
func (o *Operation) documented(status int) *response {
	if r := o.responses[status]; r != nil {
		return r
	}
	if status >= 100 && status < 600 {
		if r := o.ranges[status/100]; r != nil {
			return r
		}
	}
	return o.fallback
}

// Find returns the Operation of the request and its path parameters, or
// nil for a path and method the spec does not have; an error only when the
// fallback router cannot be built. It must run after Echo routed the request.
func (v *Validator) Find(c echo.Context) (*Operation, map[string]string, error) {
	r := c.Request()
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // HEAD is GET without the body
	}
	if op := v.byRoute[routeKey{method, c.Path()}]; op != nil {
		return op, pathParams(c), nil
	}
	return v.FindRequest(r)
}

// FindRequest is Find for a request no Echo route matched: a proxy's. It
// routes the request's URL by the spec's paths under the base path.
func (v *Validator) FindRequest(r *http.Request) (*Operation, map[string]string, error) {
	v.routerOnce.Do(func() {
		// The legacy router is a tree; gorillamux tries its routes one by
		// one and measured 1.5 to 2.4 times slower on this spec.
		if v.router, v.routerErr = legacy.NewRouter(v.doc); v.routerErr != nil {
			v.routerErr = fmt.Errorf("validation: %w", v.routerErr)
		}
	})
	if v.routerErr != nil {
		return nil, nil, v.routerErr
	}
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, nil, nil
	}
	return v.byOp[route.Operation], params, nil
}

// pathParams are Echo's path parameters, unescaped as the generated
// handlers bind them.
func pathParams(c echo.Context) map[string]string {
	names := c.ParamNames()
	if len(names) == 0 {
		return nil
	}
	values := c.ParamValues()
	params := make(map[string]string, len(names))
	for i, name := range names {
		if i >= len(values) {
			break
		}
		val := values[i]
		if strings.IndexByte(val, '%') >= 0 {
			if u, err := url.PathUnescape(val); err == nil {
				val = u
			}
		}
		params[name] = val
	}
	return params
}

// Mode is what happens to a response that breaks the spec.
func (v *Validator) Mode() Mode { return v.mode }

// ID is the operation's operationId.
func (o *Operation) ID() string { return o.id }

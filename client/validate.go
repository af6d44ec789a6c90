package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

// ValidationError is a response that breaks the API's OpenAPI description:
// an undeclared status, a missing or malformed header, or a body that does
// not match its schema. For an error status it also wraps the response's
// *Error, so errors.Is(err, ErrNotFound) still holds.
type ValidationError struct {
	Method, Path string
	StatusCode   int
	// Err is kin-openapi's description of the violation.
	Err error

	apiErr *Error
}

func (e *ValidationError) Error() string {
	if e.apiErr != nil {
		return fmt.Sprintf("%v; the response breaks the API description: %v", e.apiErr, e.Err)
	}
	return fmt.Sprintf("axiom: %s %s: the %d response breaks the API description: %v", e.Method, e.Path, e.StatusCode, e.Err)
}

// Unwrap returns the violation and, for an error status, the *Error.
func (e *ValidationError) Unwrap() []error {
	if e.apiErr != nil {
		return []error{e.Err, e.apiErr}
	}
	return []error{e.Err}
}

// responseValidator checks responses against the embedded spec.
type responseValidator struct {
	router   routers.Router
	basePath string
	options  *openapi3filter.Options
}

func newResponseValidator(basePath string) (*responseValidator, error) {
	doc, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("axiom: loading the embedded API description: %w", err)
	}
	// Paths are matched after the base path is cut, whatever the host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("axiom: routing the embedded API description: %w", err)
	}
	return &responseValidator{
		router:   router,
		basePath: basePath,
		options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				// Keep messages to one line: no schema or value dumps.
				openapi3.DisableSchemaErrorDetails(),
				openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(axiom.CheckEmail)),
				openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(validateURI)),
			},
		},
	}, nil
}

func (v *responseValidator) validate(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	// Segments are matched as sent, escaped: an email's "/" (%2F) stays
	// inside its segment.
	path, ok := strings.CutPrefix(req.URL.EscapedPath(), v.basePath)
	if !ok {
		return fmt.Errorf("path %s is outside the base path %s", req.URL.Path, v.basePath)
	}
	// The router sees the spec's own paths; the request is otherwise intact.
	r := req.Clone(ctx)
	r.URL.Path, r.URL.RawPath = path, ""
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("no operation of the API description matches: %w", err)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: v.options,
	}
	return openapi3filter.ValidateResponse(ctx, input)
}

func validateURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() || u.Host == "" {
		return errors.New("not an absolute URI")
	}
	return nil
}

// Package validate checks the Axiom API's responses against its OpenAPI
// description, the openapi.yaml this module embeds: a drift detector for a
// client pointed at the live service. It is opt-in, a package apart,
// because it links kin-openapi and a JSON-schema compiler that a program
// importing only package client does without:
//
//	v, err := validate.New()
//	…
//	c, err := client.New(key, client.WithResponseValidator(v))
//
// A violation then comes back from every call as a *client.ValidationError.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/axiomkit/axiom"
)

// Validator checks responses against the embedded API description. It
// implements client.ResponseValidator and is safe for concurrent use.
type Validator struct {
	router  routers.Router
	options *openapi3filter.Options
}

// New loads and routes the embedded API description (some 60ms, once).
func New() (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(axiom.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("axiom: loading the embedded API description: %w", err)
	}
	// Paths are matched after the client cut the base path, whatever the host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("axiom: routing the embedded API description: %w", err)
	}
	return &Validator{
		router: router,
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

// ValidateResponse checks one response to req, whose URL path is the
// operation's path under the base URL (/leads/cnt_1), escaped as sent.
func (v *Validator) ValidateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation of the API description matches: %w", err)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
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

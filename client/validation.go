package client

import (
	"context"
	"fmt"
	"net/http"
)

// ResponseValidator checks responses against the API's description.
// Package client/validate implements it with the openapi.yaml this module
// embeds; it is a package apart because it links an OpenAPI library.
type ResponseValidator interface {
	// ValidateResponse checks one final response. req's URL path is the
	// operation's path under the base URL (/leads/cnt_1), escaped as sent.
	ValidateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error
}

// WithResponseValidator checks every response, errors included, with v
// (status, headers and body), and turns a violation into a
// *ValidationError; see package client/validate.
func WithResponseValidator(v ResponseValidator) Option {
	return func(c *config) error {
		if v == nil {
			return fmt.Errorf("axiom: WithResponseValidator: nil validator")
		}
		c.validator = v
		return nil
	}
}

// ValidationError is a response that breaks the API's OpenAPI description:
// an undeclared status, a missing or malformed header, or a body that does
// not match its schema. For an error status it also wraps the response's
// *Error, so errors.Is(err, ErrNotFound) still holds.
type ValidationError struct {
	Method, Path string
	StatusCode   int
	// Err is the validator's description of the violation.
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

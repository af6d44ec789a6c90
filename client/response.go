package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// Response is what every result carries about the HTTP response it came
// from. Results embed it: lead.RateLimit.Remaining, page.RequestID.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// RequestID is the response's X-Request-Id, to quote to support.
	RequestID string
	// RateLimit is the account's rate-limit state after the request.
	RateLimit RateLimit
	// Header holds all the response's headers.
	Header http.Header
}

func newResponse(resp *http.Response) Response {
	rl, _ := parseRateLimit(resp.Header)
	return Response{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RateLimit:  rl,
		Header:     resp.Header,
	}
}

// LeadResult is a lead with the response it came in.
type LeadResult struct {
	gen.Lead
	Response `json:"-"`
}

// LeadPage is one page of leads.
type LeadPage struct {
	// Leads are the page's leads, in the requested order.
	Leads []gen.Lead
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// TemplateResult is a template with the response it came in.
type TemplateResult struct {
	gen.Template
	Response `json:"-"`
}

// TemplatePage is one page of templates.
type TemplatePage struct {
	// Templates are the page's templates, in the requested order.
	Templates []gen.Template
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// TemplateCreateResult is the API's answer to a created template: its slug
// only (fetch the template with Templates.Get when you need it whole).
type TemplateCreateResult struct {
	// Slug is the new template's id.
	Slug gen.TemplateSlug
	Response
}

// call sends one request through the generated client and turns its
// answer into a result: parse sees only 2xx responses, whose body it may
// read again; anything else becomes an *Error.
func call[T any](ctx context.Context, c *Client, send func() (*http.Response, error), parse func(*http.Response) (T, error)) (T, Response, error) {
	var zero T
	resp, err := send()
	if err != nil {
		return zero, Response{}, c.sendError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return zero, Response{}, ctx.Err()
		}
		return zero, Response{}, fmt.Errorf("axiom: %s: reading the response: %w", where(resp), err)
	}
	meta := newResponse(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return zero, meta, newError(resp, body, c.key, time.Now())
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	v, err := parse(resp)
	if err != nil {
		return zero, meta, fmt.Errorf("axiom: %s: decoding the %d response: %w", where(resp), resp.StatusCode, err)
	}
	return v, meta, nil
}

// sendError is the error of a call that got no usable response: the
// context's own error once it has ended.
func (c *Client) sendError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("axiom: %w", err)
}

// decode adapts a generated Parse function to call: it returns the body
// the operation declares for its success status, or an error for any other
// 2xx answer (another status, or not JSON).
func decode[P, B any](parse func(*http.Response) (P, error), body func(P) *B) func(*http.Response) (*B, error) {
	return func(r *http.Response) (*B, error) {
		p, err := parse(r)
		if err != nil {
			return nil, err
		}
		if b := body(p); b != nil {
			return b, nil
		}
		return nil, fmt.Errorf("unexpected %s response with content type %q", r.Status, r.Header.Get("Content-Type"))
	}
}

// noBody is the decoder of an answer without a body (204).
func noBody(*http.Response) (struct{}, error) { return struct{}{}, nil }

func isTrue(b *bool) bool { return b != nil && *b }

// where names the request a response answers, as "GET /v1/leads".
func where(resp *http.Response) string {
	if resp.Request == nil || resp.Request.URL == nil {
		return "request"
	}
	return resp.Request.Method + " " + resp.Request.URL.Path
}

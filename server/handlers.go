package server

import (
	"context"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/store"
)

// handlers implements the generated strict server interface over a store.
// Every method runs after authentication, rate limiting and validation.
type handlers struct {
	store     store.Store
	campaigns *campaigns
}

var _ gen.StrictServerInterface = (*handlers)(nil)

// query applies the spec's defaults to a list's paging parameters; the
// validation middleware has already checked their ranges and values.
func query(page, limit *int, sort, order *string) store.Query {
	q := store.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true}
	set(&q.Page, page)
	set(&q.Limit, limit)
	set(&q.Sort, sort)
	if order != nil {
		q.Desc = *order == "desc"
	}
	return q
}

// rateHeaders has the fields of every generated …ResponseHeaders struct of a
// success response, so it converts to each of them.
type rateHeaders struct {
	XRateLimitLimit     int
	XRateLimitRemaining int
	XRateLimitReset     int64
	XRequestID          *string // nil: the request-id middleware has set it
}

// headersFrom is the rate-limit state the limiter recorded for this request.
func headersFrom(ctx context.Context) rateHeaders {
	d, _ := ctx.Value(rateKey{}).(rateDecision)
	return rateHeaders{XRateLimitLimit: d.Limit, XRateLimitRemaining: d.Remaining, XRateLimitReset: d.Reset}
}

// set copies *p into *dst when p is not nil.
func set[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

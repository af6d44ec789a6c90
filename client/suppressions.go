package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"

	"github.com/axiomkit/axiom/gen"
)

// SuppressionService is the account's suppression list: the addresses no
// campaign mails, because they unsubscribed, bounced, complained or were
// added by hand. Feed it from a provider's bounce and complaint webhooks
// with Add.
type SuppressionService struct{ c *Client }

// SuppressionResult is an entry of the list with the response it came in.
type SuppressionResult struct {
	gen.Suppression
	// Added is true when the call put the address on the list, false when
	// it was there already (the entry is then the one it had).
	Added    bool
	Response `json:"-"`
}

// SuppressionPage is one page of the suppression list.
type SuppressionPage struct {
	// Suppressions are the page's entries, in the requested order.
	Suppressions []gen.Suppression
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// List returns one page of the list; params may be nil (page 1, 20
// entries, newest first).
func (s *SuppressionService) List(ctx context.Context, params *gen.ListSuppressionsParams, editors ...gen.RequestEditorFn) (*SuppressionPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListSuppressions(ctx, params, editors...) },
		decode(gen.ParseListSuppressionsResponse, func(p *gen.ListSuppressionsResponse) *gen.SuppressionList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &SuppressionPage{Suppressions: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// All iterates over every entry params selects, as LeadService.All does
// over leads.
func (s *SuppressionService) All(ctx context.Context, params *gen.ListSuppressionsParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.Suppression, error] {
	var p gen.ListSuppressionsParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.Suppression, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.List(ctx, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Suppressions, res.hasMore, nil
	}, func(e gen.Suppression) string { return e.EmailSha256 })
}

// Add suppresses an address, for a reason (a bounce or complaint a
// provider reported, an import): no campaign mails it from then on. An
// address on the list already keeps its entry, which is returned with
// Added false. Like every POST it carries an Idempotency-Key.
func (s *SuppressionService) Add(ctx context.Context, entry gen.SuppressionCreate, editors ...gen.RequestEditorFn) (*SuppressionResult, error) {
	type answer struct {
		env   *gen.SuppressionEnvelope
		added bool
	}
	res, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.AddSuppression(ctx, nil, entry, editors...) },
		func(r *http.Response) (answer, error) {
			p, err := gen.ParseAddSuppressionResponse(r)
			if err != nil {
				return answer{}, err
			}
			switch {
			case p.JSON201 != nil:
				return answer{p.JSON201, true}, nil
			case p.JSON200 != nil:
				return answer{p.JSON200, false}, nil
			}
			return answer{}, fmt.Errorf("unexpected %s response with content type %q", r.Status, r.Header.Get("Content-Type"))
		})
	if err != nil {
		return nil, err
	}
	return &SuppressionResult{Suppression: res.env.Data, Added: res.added, Response: meta}, nil
}

// Get returns the entry of an address (compared case-insensitively); an
// address not on the list fails with ErrNotFound.
func (s *SuppressionService) Get(ctx context.Context, email string, editors ...gen.RequestEditorFn) (*SuppressionResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetSuppression(ctx, email, editors...) },
		decode(gen.ParseGetSuppressionResponse, func(p *gen.GetSuppressionResponse) *gen.SuppressionEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &SuppressionResult{Suppression: env.Data, Response: meta}, nil
}

// Remove takes an address off the list: later campaigns mail it again
// (unless its lead is unsubscribed). An address not on the list fails
// with ErrNotFound.
func (s *SuppressionService) Remove(ctx context.Context, email string, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.DeleteSuppression(ctx, email, editors...) },
		noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

package client

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"

	"github.com/axiomkit/axiom/gen"
)

// LeadService is the account's leads (contacts).
type LeadService struct{ c *Client }

// List returns one page of leads; params may be nil (page 1, 20 leads,
// newest first).
func (s *LeadService) List(ctx context.Context, params *gen.ListLeadsParams, editors ...gen.RequestEditorFn) (*LeadPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListLeads(ctx, params, editors...) },
		decode(gen.ParseListLeadsResponse, func(p *gen.ListLeadsResponse) *gen.LeadList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadPage{Leads: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// All iterates over every lead params selects, fetching pages lazily as
// the loop advances; params.Page is the first page (1 by default) and
// params.Limit the page size (100, the largest, by default). It stops after
// a short or empty page or one whose has_more is false, and ends with
// ErrPaginationStalled if a page repeats the previous one. An error ends
// the iteration: it is yielded once, with a zero lead.
func (s *LeadService) All(ctx context.Context, params *gen.ListLeadsParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.Lead, error] {
	var p gen.ListLeadsParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.Lead, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.List(ctx, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Leads, res.hasMore, nil
	}, func(l gen.Lead) string { return l.ID })
}

// Create adds a lead. The client gives the request a random
// Idempotency-Key, so that a retry never creates it twice; pass
// IdempotencyKey(k) to choose the key, for example to make a whole import
// safe to run again.
func (s *LeadService) Create(ctx context.Context, lead gen.LeadCreate, editors ...gen.RequestEditorFn) (*LeadResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.CreateLead(ctx, nil, lead, editors...) },
		decode(gen.ParseCreateLeadResponse, func(p *gen.CreateLeadResponse) *gen.LeadEnvelope { return p.JSON201 }))
	if err != nil {
		return nil, err
	}
	return &LeadResult{Lead: env.Data, Response: meta}, nil
}

// Get returns the lead with id.
func (s *LeadService) Get(ctx context.Context, id gen.LeadID, editors ...gen.RequestEditorFn) (*LeadResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetLead(ctx, id, editors...) },
		decode(gen.ParseGetLeadResponse, func(p *gen.GetLeadResponse) *gen.LeadEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadResult{Lead: env.Data, Response: meta}, nil
}

// Update changes the fields of the lead with id that update sets; a field
// left nil keeps its value.
func (s *LeadService) Update(ctx context.Context, id gen.LeadID, update gen.LeadUpdate, editors ...gen.RequestEditorFn) (*LeadResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.UpdateLead(ctx, id, update, editors...) },
		decode(gen.ParseUpdateLeadResponse, func(p *gen.UpdateLeadResponse) *gen.LeadEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadResult{Lead: env.Data, Response: meta}, nil
}

// Delete deletes the lead with id.
func (s *LeadService) Delete(ctx context.Context, id gen.LeadID, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.DeleteLead(ctx, id, editors...) },
		noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

// LeadExportResult is everything the server holds about one lead, with the
// response it came in.
type LeadExportResult struct {
	gen.LeadExport
	Response `json:"-"`
}

// Export returns everything the server holds about the lead with id: the
// lead, its links to listings, its campaign messages (tokens redacted)
// with their opens and clicks, and its suppression entry if any. A
// read-only key may call it.
func (s *LeadService) Export(ctx context.Context, id gen.LeadID, editors ...gen.RequestEditorFn) (*LeadExportResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ExportLead(ctx, id, editors...) },
		decode(gen.ParseExportLeadResponse, func(p *gen.ExportLeadResponse) *gen.LeadExportEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadExportResult{LeadExport: env.Data, Response: meta}, nil
}

// IdempotencyKey sets the Idempotency-Key of a POST (other requests are
// left alone): a retry of the same request with the same key, even from
// another process within 24 hours, gets the first answer instead of acting
// twice. The same key with a different body fails with
// ErrIdempotencyKeyReused. A key is 1 to 255 printable ASCII characters.
func IdempotencyKey(key string) gen.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if req.Method != http.MethodPost {
			return nil
		}
		if len(key) == 0 || len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return errors.New("axiom: IdempotencyKey: want 1 to 255 printable ASCII characters")
		}
		req.Header.Set("Idempotency-Key", key)
		return nil
	}
}

package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/axiomkit/axiom/gen"
)

// PropertyService is the account's real-estate listings and their links
// to leads. Prices are gen.Money: a decimal string and an ISO 4217 code,
// never a float.
type PropertyService struct{ c *Client }

// PropertyResult is a listing with the response it came in.
type PropertyResult struct {
	gen.Property
	Response `json:"-"`
}

// PropertyPage is one page of listings.
type PropertyPage struct {
	// Properties are the page's listings, in the requested order.
	Properties []gen.Property
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// LinkResult is a link between a lead and a listing; Created is true
// when the request made it, false when it existed (its relation is now
// the one sent).
type LinkResult struct {
	gen.PropertyLink
	Created  bool
	Response `json:"-"`
}

// PropertyLeadPage is one page of the leads linked to a listing.
type PropertyLeadPage struct {
	Leads   []gen.PropertyLead
	HasMore bool
	Response
}

// LeadPropertyPage is one page of the listings a lead is linked to.
type LeadPropertyPage struct {
	Properties []gen.LeadProperty
	HasMore    bool
	Response
}

// List returns one page of listings; params may be nil (page 1, 20
// listings, newest first).
func (s *PropertyService) List(ctx context.Context, params *gen.ListPropertiesParams, editors ...gen.RequestEditorFn) (*PropertyPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListProperties(ctx, params, editors...) },
		decode(gen.ParseListPropertiesResponse, func(p *gen.ListPropertiesResponse) *gen.PropertyList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &PropertyPage{Properties: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// All iterates over every listing params selects, fetching pages lazily,
// as LeadService.All does.
func (s *PropertyService) All(ctx context.Context, params *gen.ListPropertiesParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.Property, error] {
	var p gen.ListPropertiesParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.Property, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.List(ctx, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Properties, res.hasMore, nil
	}, func(p gen.Property) string { return p.ID })
}

// Create adds a listing, under a random Idempotency-Key unless
// IdempotencyKey chooses one.
func (s *PropertyService) Create(ctx context.Context, p gen.PropertyCreate, editors ...gen.RequestEditorFn) (*PropertyResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.CreateProperty(ctx, nil, p, editors...) },
		decode(gen.ParseCreatePropertyResponse, func(p *gen.CreatePropertyResponse) *gen.PropertyEnvelope { return p.JSON201 }))
}

// Get returns the listing with id.
func (s *PropertyService) Get(ctx context.Context, id gen.PropertyID, editors ...gen.RequestEditorFn) (*PropertyResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.GetProperty(ctx, id, editors...) },
		decode(gen.ParseGetPropertyResponse, func(p *gen.GetPropertyResponse) *gen.PropertyEnvelope { return p.JSON200 }))
}

// Update changes the fields of the listing with id that update sets.
func (s *PropertyService) Update(ctx context.Context, id gen.PropertyID, update gen.PropertyUpdate, editors ...gen.RequestEditorFn) (*PropertyResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.UpdateProperty(ctx, id, update, editors...) },
		decode(gen.ParseUpdatePropertyResponse, func(p *gen.UpdatePropertyResponse) *gen.PropertyEnvelope { return p.JSON200 }))
}

func (s *PropertyService) one(ctx context.Context, send func() (*http.Response, error), parse func(*http.Response) (*gen.PropertyEnvelope, error)) (*PropertyResult, error) {
	env, meta, err := call(ctx, s.c, send, parse)
	if err != nil {
		return nil, err
	}
	return &PropertyResult{Property: env.Data, Response: meta}, nil
}

// Delete deletes the listing with id and its links to leads.
func (s *PropertyService) Delete(ctx context.Context, id gen.PropertyID, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c, func() (*http.Response, error) { return s.c.raw.DeleteProperty(ctx, id, editors...) }, noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

// Link links a lead to the listing with relation, or changes the relation
// of their link. It is idempotent: a retry never links twice.
func (s *PropertyService) Link(ctx context.Context, id gen.PropertyID, leadID gen.LeadID, relation gen.PropertyRelation, editors ...gen.RequestEditorFn) (*LinkResult, error) {
	created := false
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) {
			return s.c.raw.LinkPropertyLead(ctx, id, leadID, gen.PropertyLinkRequest{Relation: relation}, editors...)
		},
		decode(gen.ParseLinkPropertyLeadResponse, func(p *gen.LinkPropertyLeadResponse) *gen.PropertyLinkEnvelope {
			created = p.JSON201 != nil
			if created {
				return p.JSON201
			}
			return p.JSON200
		}))
	if err != nil {
		return nil, err
	}
	return &LinkResult{PropertyLink: env.Data, Created: created, Response: meta}, nil
}

// Unlink removes the link between a lead and the listing.
func (s *PropertyService) Unlink(ctx context.Context, id gen.PropertyID, leadID gen.LeadID, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c, func() (*http.Response, error) { return s.c.raw.UnlinkPropertyLead(ctx, id, leadID, editors...) }, noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

// Leads returns one page of the leads linked to the listing with id.
func (s *PropertyService) Leads(ctx context.Context, id gen.PropertyID, params *gen.ListPropertyLeadsParams, editors ...gen.RequestEditorFn) (*PropertyLeadPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListPropertyLeads(ctx, id, params, editors...) },
		decode(gen.ParseListPropertyLeadsResponse, func(p *gen.ListPropertyLeadsResponse) *gen.PropertyLeadList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &PropertyLeadPage{Leads: list.Data, HasMore: isTrue(list.HasMore), Response: meta}, nil
}

// OfLead returns one page of the listings the lead with id is linked to.
func (s *PropertyService) OfLead(ctx context.Context, leadID gen.LeadID, params *gen.ListLeadPropertiesParams, editors ...gen.RequestEditorFn) (*LeadPropertyPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListLeadProperties(ctx, leadID, params, editors...) },
		decode(gen.ParseListLeadPropertiesResponse, func(p *gen.ListLeadPropertiesResponse) *gen.LeadPropertyList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadPropertyPage{Properties: list.Data, HasMore: isTrue(list.HasMore), Response: meta}, nil
}

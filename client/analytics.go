package client

import (
	"context"
	"net/http"

	"github.com/axiomkit/axiom/gen"
)

// AnalyticsService is the read-only aggregates over the account's leads,
// campaigns and listings.
type AnalyticsService struct{ c *Client }

// LeadAnalyticsResult is the new leads of a period.
type LeadAnalyticsResult struct {
	gen.LeadAnalytics
	Response `json:"-"`
}

// CampaignAnalyticsResult is what the campaigns started in a period did.
type CampaignAnalyticsResult struct {
	gen.CampaignAnalytics
	Response `json:"-"`
}

// PropertyAnalyticsResult is the listings by status and type, and their prices.
type PropertyAnalyticsResult struct {
	gen.PropertyAnalytics
	Response `json:"-"`
}

// Leads returns the new leads of params' period, per interval, and their totals.
func (s *AnalyticsService) Leads(ctx context.Context, params gen.GetLeadAnalyticsParams, editors ...gen.RequestEditorFn) (*LeadAnalyticsResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetLeadAnalytics(ctx, &params, editors...) },
		decode(gen.ParseGetLeadAnalyticsResponse, func(p *gen.GetLeadAnalyticsResponse) *gen.LeadAnalyticsEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &LeadAnalyticsResult{LeadAnalytics: env.Data, Response: meta}, nil
}

// Campaigns returns the figures of the campaigns started in params' period.
func (s *AnalyticsService) Campaigns(ctx context.Context, params gen.GetCampaignAnalyticsParams, editors ...gen.RequestEditorFn) (*CampaignAnalyticsResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetCampaignAnalytics(ctx, &params, editors...) },
		decode(gen.ParseGetCampaignAnalyticsResponse, func(p *gen.GetCampaignAnalyticsResponse) *gen.CampaignAnalyticsEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &CampaignAnalyticsResult{CampaignAnalytics: env.Data, Response: meta}, nil
}

// Properties returns the listings params selects by status and type, and
// their price statistics; params may be nil (every listing).
func (s *AnalyticsService) Properties(ctx context.Context, params *gen.GetPropertyAnalyticsParams, editors ...gen.RequestEditorFn) (*PropertyAnalyticsResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetPropertyAnalytics(ctx, params, editors...) },
		decode(gen.ParseGetPropertyAnalyticsResponse, func(p *gen.GetPropertyAnalyticsResponse) *gen.PropertyAnalyticsEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &PropertyAnalyticsResult{PropertyAnalytics: env.Data, Response: meta}, nil
}

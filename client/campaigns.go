package client

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// CampaignService is the account's email campaigns: one template sent to
// an audience of leads, now or at a scheduled time.
type CampaignService struct{ c *Client }

// CampaignResult is a campaign with the response it came in.
type CampaignResult struct {
	gen.Campaign
	Response `json:"-"`
}

// CampaignPage is one page of campaigns.
type CampaignPage struct {
	// Campaigns are the page's campaigns, in the requested order.
	Campaigns []gen.Campaign
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// CampaignStatsResult is a campaign's figures with the response they came in.
type CampaignStatsResult struct {
	gen.CampaignStats
	Response `json:"-"`
}

// CampaignMessageResult is one campaign message with its body, its
// tokens shown as REDACTED.
type CampaignMessageResult struct {
	gen.CampaignMessage
	Response `json:"-"`
}

// CampaignMessagePage is one page of a campaign's messages.
type CampaignMessagePage struct {
	// Messages are the page's messages.
	Messages []gen.CampaignMessage
	// HasMore says whether a further page exists; false when the server
	// did not say.
	HasMore bool
	Response

	hasMore *bool
}

// List returns one page of campaigns; params may be nil (page 1, 20
// campaigns, newest first).
func (s *CampaignService) List(ctx context.Context, params *gen.ListCampaignsParams, editors ...gen.RequestEditorFn) (*CampaignPage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListCampaigns(ctx, params, editors...) },
		decode(gen.ParseListCampaignsResponse, func(p *gen.ListCampaignsResponse) *gen.CampaignList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &CampaignPage{Campaigns: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// All iterates over every campaign params selects, as LeadService.All does
// over leads.
func (s *CampaignService) All(ctx context.Context, params *gen.ListCampaignsParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.Campaign, error] {
	var p gen.ListCampaignsParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.Campaign, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.List(ctx, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Campaigns, res.hasMore, nil
	}, func(c gen.Campaign) string { return c.ID })
}

// Create adds a campaign: a draft, or scheduled when campaign.ScheduledAt
// is set. A template the account does not have fails with
// ErrTemplateNotFound. Like every POST it carries an Idempotency-Key.
func (s *CampaignService) Create(ctx context.Context, campaign gen.CampaignCreate, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.CreateCampaign(ctx, nil, campaign, editors...) },
		decode(gen.ParseCreateCampaignResponse, func(p *gen.CreateCampaignResponse) *gen.CampaignEnvelope { return p.JSON201 }))
}

// Get returns the campaign with id, its status and delivery counts.
func (s *CampaignService) Get(ctx context.Context, id gen.CampaignID, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.GetCampaign(ctx, id, editors...) },
		decode(gen.ParseGetCampaignResponse, func(p *gen.GetCampaignResponse) *gen.CampaignEnvelope { return p.JSON200 }))
}

// Update changes a campaign that has not started; otherwise it fails with
// ErrInvalidState.
func (s *CampaignService) Update(ctx context.Context, id gen.CampaignID, update gen.CampaignUpdate, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.UpdateCampaign(ctx, id, update, editors...) },
		decode(gen.ParseUpdateCampaignResponse, func(p *gen.UpdateCampaignResponse) *gen.CampaignEnvelope { return p.JSON200 }))
}

// Delete deletes a campaign with its messages; one that is sending fails
// with ErrInvalidState (cancel it first).
func (s *CampaignService) Delete(ctx context.Context, id gen.CampaignID, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.DeleteCampaign(ctx, id, editors...) },
		noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

// Send starts sending a draft or scheduled campaign now; the answer comes
// at once, with the campaign sending.
func (s *CampaignService) Send(ctx context.Context, id gen.CampaignID, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.SendCampaign(ctx, id, nil, editors...) },
		decode(gen.ParseSendCampaignResponse, func(p *gen.SendCampaignResponse) *gen.CampaignEnvelope { return p.JSON202 }))
}

// Schedule sets, or moves, the time at which a draft or scheduled campaign
// starts sending.
func (s *CampaignService) Schedule(ctx context.Context, id gen.CampaignID, at time.Time, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	body := gen.CampaignSchedule{ScheduledAt: at}
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.ScheduleCampaign(ctx, id, nil, body, editors...) },
		decode(gen.ParseScheduleCampaignResponse, func(p *gen.ScheduleCampaignResponse) *gen.CampaignEnvelope { return p.JSON200 }))
}

// Cancel stops a draft, scheduled or sending campaign.
func (s *CampaignService) Cancel(ctx context.Context, id gen.CampaignID, editors ...gen.RequestEditorFn) (*CampaignResult, error) {
	return s.one(ctx, func() (*http.Response, error) { return s.c.raw.CancelCampaign(ctx, id, nil, editors...) },
		decode(gen.ParseCancelCampaignResponse, func(p *gen.CancelCampaignResponse) *gen.CampaignEnvelope { return p.JSON200 }))
}

// Stats returns a campaign's delivery, open and click figures.
func (s *CampaignService) Stats(ctx context.Context, id gen.CampaignID, editors ...gen.RequestEditorFn) (*CampaignStatsResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetCampaignStats(ctx, id, editors...) },
		decode(gen.ParseGetCampaignStatsResponse, func(p *gen.GetCampaignStatsResponse) *gen.CampaignStatsEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &CampaignStatsResult{CampaignStats: env.Data, Response: meta}, nil
}

// Messages returns one page of a campaign's messages; params may be nil.
func (s *CampaignService) Messages(ctx context.Context, id gen.CampaignID, params *gen.ListCampaignMessagesParams, editors ...gen.RequestEditorFn) (*CampaignMessagePage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListCampaignMessages(ctx, id, params, editors...) },
		decode(gen.ParseListCampaignMessagesResponse, func(p *gen.ListCampaignMessagesResponse) *gen.CampaignMessageList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &CampaignMessagePage{Messages: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// Message returns one message of a campaign with its body (HTML and
// Text); the listing has none. Its tokens are shown as REDACTED.
func (s *CampaignService) Message(ctx context.Context, id gen.CampaignID, messageID gen.MessageID, editors ...gen.RequestEditorFn) (*CampaignMessageResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetCampaignMessage(ctx, id, messageID, editors...) },
		decode(gen.ParseGetCampaignMessageResponse, func(p *gen.GetCampaignMessageResponse) *gen.CampaignMessageEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &CampaignMessageResult{CampaignMessage: env.Data, Response: meta}, nil
}

// AllMessages iterates over every message of a campaign, as
// LeadService.All does over leads.
func (s *CampaignService) AllMessages(ctx context.Context, id gen.CampaignID, params *gen.ListCampaignMessagesParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.CampaignMessage, error] {
	var p gen.ListCampaignMessagesParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.CampaignMessage, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.Messages(ctx, id, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Messages, res.hasMore, nil
	}, func(m gen.CampaignMessage) string { return m.ID })
}

// one sends a request answered by one campaign.
func (s *CampaignService) one(ctx context.Context, send func() (*http.Response, error), parse func(*http.Response) (*gen.CampaignEnvelope, error)) (*CampaignResult, error) {
	env, meta, err := call(ctx, s.c, send, parse)
	if err != nil {
		return nil, err
	}
	return &CampaignResult{Campaign: env.Data, Response: meta}, nil
}

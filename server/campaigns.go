package server

import (
	"context"
	"errors"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/campaign"
	"github.com/axiomkit/axiom/server/store"
)

// DefaultPublicURL is where the links of campaign messages lead when
// Config.PublicURL is not set: the reference server on its default address.
const DefaultPublicURL = "http://localhost:8080/v1"

// campaigns is what the campaign operations need besides the store.
type campaigns struct {
	store    store.CampaignStore
	composer *campaign.Composer
	now      func() time.Time
}

func newCampaigns(cfg Config) (*campaigns, error) {
	public := cfg.PublicURL
	if public == "" {
		public = DefaultPublicURL
	}
	composer, err := campaign.NewComposer(public)
	if err != nil {
		return nil, err
	}
	return &campaigns{store: cfg.Store, composer: composer, now: time.Now}, nil
}

func templateNotFound(slug string) *apierror.Error {
	return apierror.TemplateNotFound("No template with slug '%s' in this account", slug)
}

// campaignError turns the store's errors about campaign id into API errors
// that name it; slug is the template the request named, if any.
func campaignError(err error, id, slug string) error {
	var se *store.StateError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierror.NotFound("No campaign with id '%s'", id)
	case errors.Is(err, store.ErrTemplateNotFound):
		return templateNotFound(slug)
	case errors.As(err, &se):
		switch se.Op {
		case "update":
			return apierror.InvalidState("Campaign '%s' is %s and can no longer be changed", id, se.Status)
		case "delete":
			return apierror.InvalidState("Campaign '%s' is sending and cannot be deleted; cancel it first", id)
		case "cancel":
			return apierror.InvalidState("Campaign '%s' is already %s and cannot be cancelled", id, se.Status)
		default:
			return apierror.InvalidState("Campaign '%s' is %s and cannot be %s", id, se.Status, map[string]string{
				"send": "sent", "schedule": "scheduled"}[se.Op])
		}
	}
	return err
}

func (h *handlers) ListCampaigns(ctx context.Context, r gen.ListCampaignsRequestObject) (gen.ListCampaignsResponseObject, error) {
	cs := h.campaigns.store
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	status := ""
	if r.Params.Status != nil {
		status = string(*r.Params.Status)
	}
	page, err := cs.ListCampaigns(ctx, accountID(ctx), q, status)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Campaign, len(page.Campaigns))
	for i, c := range page.Campaigns {
		data[i] = campaignToAPI(c)
	}
	return gen.ListCampaigns200JSONResponse{
		Body:    gen.CampaignList{Data: data, Length: len(data), HasMore: &page.HasMore},
		Headers: gen.ListCampaigns200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) CreateCampaign(ctx context.Context, r gen.CreateCampaignRequestObject) (gen.CreateCampaignResponseObject, error) {
	cs := h.campaigns.store
	b := r.Body
	if b.ScheduledAt != nil && !b.ScheduledAt.After(h.campaigns.now()) {
		return nil, apierror.InvalidState("The scheduled time %s is in the past", b.ScheduledAt.UTC().Format(time.RFC3339))
	}
	c := store.Campaign{AccountID: accountID(ctx), Name: b.Name, Template: b.Template, ScheduledAt: b.ScheduledAt}
	if b.Audience != nil {
		c.Audience = audienceFromAPI(*b.Audience)
	}
	created, err := cs.CreateCampaign(ctx, c)
	if errors.Is(err, store.ErrTemplateNotFound) {
		return nil, templateNotFound(b.Template)
	}
	if err != nil {
		return nil, err
	}
	return gen.CreateCampaign201JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(created)},
		Headers: gen.CreateCampaign201ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) GetCampaign(ctx context.Context, r gen.GetCampaignRequestObject) (gen.GetCampaignResponseObject, error) {
	cs := h.campaigns.store
	c, err := cs.GetCampaign(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	return gen.GetCampaign200JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(c)},
		Headers: gen.GetCampaign200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) UpdateCampaign(ctx context.Context, r gen.UpdateCampaignRequestObject) (gen.UpdateCampaignResponseObject, error) {
	cs := h.campaigns.store
	b := r.Body
	p := store.CampaignPatch{Name: b.Name, Template: b.Template}
	if b.Audience != nil {
		a := audienceFromAPI(*b.Audience)
		p.Audience = &a
	}
	slug := ""
	if b.Template != nil {
		slug = *b.Template
	}
	c, err := cs.UpdateCampaign(ctx, accountID(ctx), r.ID, p)
	if err != nil {
		return nil, campaignError(err, r.ID, slug)
	}
	return gen.UpdateCampaign200JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(c)},
		Headers: gen.UpdateCampaign200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) DeleteCampaign(ctx context.Context, r gen.DeleteCampaignRequestObject) (gen.DeleteCampaignResponseObject, error) {
	cs := h.campaigns.store
	if err := cs.DeleteCampaign(ctx, accountID(ctx), r.ID); err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	return gen.DeleteCampaign204Response{Headers: gen.DeleteCampaign204ResponseHeaders(headersFrom(ctx))}, nil
}

func (h *handlers) SendCampaign(ctx context.Context, r gen.SendCampaignRequestObject) (gen.SendCampaignResponseObject, error) {
	cs := h.campaigns.store
	c, err := cs.GetCampaign(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	c, err = cs.StartCampaign(ctx, accountID(ctx), r.ID, h.campaigns.now(), h.campaigns.composer.Compose)
	if err != nil {
		return nil, campaignError(err, r.ID, c.Template)
	}
	return gen.SendCampaign202JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(c)},
		Headers: gen.SendCampaign202ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) ScheduleCampaign(ctx context.Context, r gen.ScheduleCampaignRequestObject) (gen.ScheduleCampaignResponseObject, error) {
	cs := h.campaigns.store
	at := r.Body.ScheduledAt
	if !at.After(h.campaigns.now()) {
		// A missing campaign is still a 404, whatever the time.
		if _, err := cs.GetCampaign(ctx, accountID(ctx), r.ID); err != nil {
			return nil, campaignError(err, r.ID, "")
		}
		return nil, apierror.InvalidState("The scheduled time %s is in the past", at.UTC().Format(time.RFC3339))
	}
	c, err := cs.ScheduleCampaign(ctx, accountID(ctx), r.ID, at)
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	return gen.ScheduleCampaign200JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(c)},
		Headers: gen.ScheduleCampaign200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) CancelCampaign(ctx context.Context, r gen.CancelCampaignRequestObject) (gen.CancelCampaignResponseObject, error) {
	cs := h.campaigns.store
	c, err := cs.CancelCampaign(ctx, accountID(ctx), r.ID, h.campaigns.now())
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	return gen.CancelCampaign200JSONResponse{
		Body:    gen.CampaignEnvelope{Data: campaignToAPI(c)},
		Headers: gen.CancelCampaign200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) GetCampaignStats(ctx context.Context, r gen.GetCampaignStatsRequestObject) (gen.GetCampaignStatsResponseObject, error) {
	cs := h.campaigns.store
	s, err := cs.CampaignStats(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	return gen.GetCampaignStats200JSONResponse{
		Body: gen.CampaignStatsEnvelope{Data: gen.CampaignStats{
			Recipients: s.Recipients, Sent: s.Sent, Failed: s.Failed, Pending: s.Pending,
			Opens: s.Opens, UniqueOpens: s.UniqueOpens, Clicks: s.Clicks, UniqueClicks: s.UniqueClicks,
			Unsubscribes: s.Unsubscribes,
		}},
		Headers: gen.GetCampaignStats200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) ListCampaignMessages(ctx context.Context, r gen.ListCampaignMessagesRequestObject) (gen.ListCampaignMessagesResponseObject, error) {
	cs := h.campaigns.store
	page, err := cs.ListMessages(ctx, accountID(ctx), r.ID, query(r.Params.Page, r.Params.Limit, nil, nil))
	if err != nil {
		return nil, campaignError(err, r.ID, "")
	}
	data := make([]gen.CampaignMessage, len(page.Messages))
	for i, m := range page.Messages {
		var sentAt *time.Time
		if m.SentAt != nil {
			t := m.SentAt.UTC()
			sentAt = &t
		}
		data[i] = gen.CampaignMessage{
			ID: m.ID, LeadID: m.LeadID, To: m.To, Subject: m.Subject, HTML: m.HTML, Text: m.Text,
			Status: gen.CampaignMessageStatus(m.Status), Error: m.Error, SentAt: sentAt, CreatedAt: m.CreatedAt.UTC(),
		}
	}
	return gen.ListCampaignMessages200JSONResponse{
		Body:    gen.CampaignMessageList{Data: data, Length: len(data), HasMore: &page.HasMore},
		Headers: gen.ListCampaignMessages200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func audienceFromAPI(a gen.CampaignAudience) store.Audience {
	var out store.Audience
	if a.Tags != nil {
		out.Tags = *a.Tags
	}
	if a.Types != nil {
		for _, t := range *a.Types {
			out.Types = append(out.Types, string(t))
		}
	}
	if a.Statuses != nil {
		for _, s := range *a.Statuses {
			out.Statuses = append(out.Statuses, string(s))
		}
	}
	return out
}

// audienceToAPI lists only the criteria that narrow the audience.
func audienceToAPI(a store.Audience) gen.CampaignAudience {
	var out gen.CampaignAudience
	if len(a.Tags) > 0 {
		tags := gen.Tags(a.Tags)
		out.Tags = &tags
	}
	if len(a.Types) > 0 {
		types := make([]gen.LeadType, len(a.Types))
		for i, t := range a.Types {
			types[i] = gen.LeadType(t)
		}
		out.Types = &types
	}
	if len(a.Statuses) > 0 {
		statuses := make([]gen.CampaignAudienceStatuses, len(a.Statuses))
		for i, s := range a.Statuses {
			statuses[i] = gen.CampaignAudienceStatuses(s)
		}
		out.Statuses = &statuses
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func campaignToAPI(c store.Campaign) gen.Campaign {
	return gen.Campaign{
		ID:          c.ID,
		Name:        c.Name,
		Template:    c.Template,
		Audience:    audienceToAPI(c.Audience),
		Status:      gen.CampaignStatus(c.Status),
		ScheduledAt: utcPtr(c.ScheduledAt),
		StartedAt:   utcPtr(c.StartedAt),
		CompletedAt: utcPtr(c.CompletedAt),
		Counts:      gen.CampaignCounts{Recipients: c.Counts.Recipients, Sent: c.Counts.Sent, Failed: c.Counts.Failed},
		CreatedAt:   c.CreatedAt.UTC(),
		UpdatedAt:   c.UpdatedAt.UTC(),
	}
}

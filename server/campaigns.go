package server

import (
	"context"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/genserver"
)

func (h *handlers) ListCampaigns(ctx context.Context, r genserver.ListCampaignsRequestObject) (genserver.ListCampaignsResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	var status axiom.CampaignStatus
	if r.Params.Status != nil {
		status = axiom.CampaignStatus(*r.Params.Status)
	}
	page, err := h.campaigns.List(ctx, accountID(ctx), q, status)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Campaign, len(page.Items))
	for i, c := range page.Items {
		data[i] = campaignToAPI(c)
	}
	return genserver.ListCampaigns200JSONResponse{Body: gen.CampaignList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) CreateCampaign(ctx context.Context, r genserver.CreateCampaignRequestObject) (genserver.CreateCampaignResponseObject, error) {
	b := r.Body
	c := axiom.Campaign{Name: b.Name, Template: b.Template, ScheduledAt: b.ScheduledAt}
	if b.Audience != nil {
		c.Audience = audienceFromAPI(*b.Audience)
	}
	c, err := h.campaigns.Create(ctx, accountID(ctx), c)
	if err != nil {
		return nil, err
	}
	return genserver.CreateCampaign201JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) GetCampaign(ctx context.Context, r genserver.GetCampaignRequestObject) (genserver.GetCampaignResponseObject, error) {
	c, err := h.campaigns.Get(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.GetCampaign200JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) UpdateCampaign(ctx context.Context, r genserver.UpdateCampaignRequestObject) (genserver.UpdateCampaignResponseObject, error) {
	b := r.Body
	p := campaign.Patch{Name: b.Name, Template: b.Template}
	if b.Audience != nil {
		a := audienceFromAPI(*b.Audience)
		p.Audience = &a
	}
	c, err := h.campaigns.Update(ctx, accountID(ctx), r.ID, p)
	if err != nil {
		return nil, err
	}
	return genserver.UpdateCampaign200JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) DeleteCampaign(ctx context.Context, r genserver.DeleteCampaignRequestObject) (genserver.DeleteCampaignResponseObject, error) {
	if err := h.campaigns.Delete(ctx, accountID(ctx), r.ID); err != nil {
		return nil, err
	}
	return genserver.DeleteCampaign204Response{}, nil
}

func (h *handlers) SendCampaign(ctx context.Context, r genserver.SendCampaignRequestObject) (genserver.SendCampaignResponseObject, error) {
	c, err := h.campaigns.Send(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.SendCampaign202JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) ScheduleCampaign(ctx context.Context, r genserver.ScheduleCampaignRequestObject) (genserver.ScheduleCampaignResponseObject, error) {
	c, err := h.campaigns.Schedule(ctx, accountID(ctx), r.ID, r.Body.ScheduledAt)
	if err != nil {
		return nil, err
	}
	return genserver.ScheduleCampaign200JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) CancelCampaign(ctx context.Context, r genserver.CancelCampaignRequestObject) (genserver.CancelCampaignResponseObject, error) {
	c, err := h.campaigns.Cancel(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.CancelCampaign200JSONResponse{Body: gen.CampaignEnvelope{Data: campaignToAPI(c)}}, nil
}

func (h *handlers) GetCampaignStats(ctx context.Context, r genserver.GetCampaignStatsRequestObject) (genserver.GetCampaignStatsResponseObject, error) {
	s, err := h.campaigns.Stats(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.GetCampaignStats200JSONResponse{Body: gen.CampaignStatsEnvelope{Data: gen.CampaignStats{
		Recipients: s.Recipients, Sent: s.Sent, Failed: s.Failed, Pending: s.Pending,
		Opens: s.Opens, UniqueOpens: s.UniqueOpens, Clicks: s.Clicks, UniqueClicks: s.UniqueClicks,
		Unsubscribes: s.Unsubscribes, Suppressed: s.Suppressed, Bounces: s.Bounces,
	}}}, nil
}

func (h *handlers) ListCampaignMessages(ctx context.Context, r genserver.ListCampaignMessagesRequestObject) (genserver.ListCampaignMessagesResponseObject, error) {
	page, err := h.campaigns.Messages(ctx, accountID(ctx), r.ID, query(r.Params.Page, r.Params.Limit, nil, nil))
	if err != nil {
		return nil, err
	}
	data := make([]gen.CampaignMessage, len(page.Items))
	for i, m := range page.Items {
		data[i] = messageToAPI(m)
	}
	return genserver.ListCampaignMessages200JSONResponse{Body: gen.CampaignMessageList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) GetCampaignMessage(ctx context.Context, r genserver.GetCampaignMessageRequestObject) (genserver.GetCampaignMessageResponseObject, error) {
	m, err := h.campaigns.Message(ctx, accountID(ctx), r.ID, r.MessageID)
	if err != nil {
		return nil, err
	}
	msg := messageToAPI(m)
	msg.HTML, msg.Text = &m.HTML, &m.Text
	return genserver.GetCampaignMessage200JSONResponse{Body: gen.CampaignMessageEnvelope{Data: msg}}, nil
}

// messageToAPI is a message without its body, as the listing shows it.
func messageToAPI(m axiom.Message) gen.CampaignMessage {
	return gen.CampaignMessage{
		ID: m.ID, LeadID: m.LeadID, To: m.To, Subject: m.Subject,
		Status: gen.CampaignMessageStatus(m.Status), Error: m.Error, SentAt: utcPtr(m.SentAt), CreatedAt: m.CreatedAt.UTC(),
	}
}

func audienceFromAPI(a gen.CampaignAudience) axiom.Audience {
	var out axiom.Audience
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
	if a.Properties != nil {
		out.Properties = *a.Properties
	}
	if a.Relations != nil {
		for _, r := range *a.Relations {
			out.Relations = append(out.Relations, string(r))
		}
	}
	return out.Normalized()
}

// audienceToAPI lists only the criteria that narrow the audience.
func audienceToAPI(a axiom.Audience) gen.CampaignAudience {
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
	if len(a.Properties) > 0 {
		out.Properties = &a.Properties
	}
	if len(a.Relations) > 0 {
		relations := make([]gen.PropertyRelation, len(a.Relations))
		for i, r := range a.Relations {
			relations[i] = gen.PropertyRelation(r)
		}
		out.Relations = &relations
	}
	return out
}

func campaignToAPI(c axiom.Campaign) gen.Campaign {
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

package server

import (
	"context"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/apierror"
)

// errNoCampaigns answers the campaign operations until they are served.
var errNoCampaigns = apierror.NotFound("Campaigns are not available on this server yet")

func (h *handlers) ListCampaigns(context.Context, gen.ListCampaignsRequestObject) (gen.ListCampaignsResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) CreateCampaign(context.Context, gen.CreateCampaignRequestObject) (gen.CreateCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) DeleteCampaign(context.Context, gen.DeleteCampaignRequestObject) (gen.DeleteCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) GetCampaign(context.Context, gen.GetCampaignRequestObject) (gen.GetCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) UpdateCampaign(context.Context, gen.UpdateCampaignRequestObject) (gen.UpdateCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) CancelCampaign(context.Context, gen.CancelCampaignRequestObject) (gen.CancelCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) ListCampaignMessages(context.Context, gen.ListCampaignMessagesRequestObject) (gen.ListCampaignMessagesResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) ScheduleCampaign(context.Context, gen.ScheduleCampaignRequestObject) (gen.ScheduleCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) SendCampaign(context.Context, gen.SendCampaignRequestObject) (gen.SendCampaignResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) GetCampaignStats(context.Context, gen.GetCampaignStatsRequestObject) (gen.GetCampaignStatsResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) TrackClick(context.Context, gen.TrackClickRequestObject) (gen.TrackClickResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) TrackOpen(context.Context, gen.TrackOpenRequestObject) (gen.TrackOpenResponseObject, error) {
	return nil, errNoCampaigns
}

func (h *handlers) Unsubscribe(context.Context, gen.UnsubscribeRequestObject) (gen.UnsubscribeResponseObject, error) {
	return nil, errNoCampaigns
}

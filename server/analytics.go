package server

import (
	"context"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/analytics"
	"github.com/axiomkit/axiom/internal/genserver"
)

func (h *handlers) GetLeadAnalytics(ctx context.Context, r genserver.GetLeadAnalyticsRequestObject) (genserver.GetLeadAnalyticsResponseObject, error) {
	p := r.Params
	q := analytics.LeadQuery{From: p.From, To: p.To}
	set(&q.Interval, (*axiom.Interval)(p.Interval))
	set(&q.Zone, p.Tz)
	set(&q.GroupBy, (*axiom.LeadDimension)(p.GroupBy))
	a, err := h.analytics.Leads(ctx, accountID(ctx), q)
	if err != nil {
		return nil, err
	}
	in := func(t time.Time) time.Time { return t.In(a.Zone) }
	out := gen.LeadAnalytics{
		From: in(a.From), To: in(a.To), Interval: gen.AnalyticsInterval(a.Interval), Tz: a.Zone.String(), Total: a.Total,
		Series: make([]gen.LeadSeriesPoint, len(a.Series)),
		Totals: gen.LeadTotals{Source: a.Totals[axiom.LeadBySource], Type: a.Totals[axiom.LeadByType], Status: a.Totals[axiom.LeadByStatus]},
	}
	if a.GroupBy != axiom.LeadTotal {
		out.GroupBy = (*string)(&a.GroupBy)
	}
	for i, pt := range a.Series {
		out.Series[i] = gen.LeadSeriesPoint{Start: in(pt.Start), End: in(pt.End), Count: pt.Count, Groups: pt.Groups}
	}
	return genserver.GetLeadAnalytics200JSONResponse{Body: gen.LeadAnalyticsEnvelope{Data: out}}, nil
}

func (h *handlers) GetCampaignAnalytics(ctx context.Context, r genserver.GetCampaignAnalyticsRequestObject) (genserver.GetCampaignAnalyticsResponseObject, error) {
	p := r.Params
	period, err := h.analytics.Campaigns(ctx, accountID(ctx), p.From, p.To, query(p.Page, p.Limit, nil, nil))
	if err != nil {
		return nil, err
	}
	items := make([]gen.CampaignPeriodItem, len(period.Page.Items))
	for i, c := range period.Page.Items {
		items[i] = gen.CampaignPeriodItem{ID: c.Campaign.ID, Name: c.Campaign.Name, Status: gen.CampaignStatus(c.Campaign.Status),
			StartedAt: c.Campaign.StartedAt.UTC(), Figures: figuresToAPI(axiom.FiguresOf(c.Stats))}
	}
	return genserver.GetCampaignAnalytics200JSONResponse{Body: gen.CampaignAnalyticsEnvelope{Data: gen.CampaignAnalytics{
		From: p.From, To: p.To,
		Totals:    gen.CampaignPeriodTotals{Campaigns: period.Campaigns, Figures: figuresToAPI(axiom.FiguresOf(period.Totals))},
		Campaigns: items, Length: len(items), HasMore: period.Page.HasMore,
	}}}, nil
}

func figuresToAPI(f axiom.CampaignFigures) gen.CampaignFigures {
	return gen.CampaignFigures{
		Sent: f.Sent, Delivered: f.Delivered, Failed: f.Failed, UniqueOpens: f.UniqueOpens, UniqueClicks: f.UniqueClicks,
		Unsubscribes: f.Unsubscribes, DeliveryRate: f.DeliveryRate(), OpenRate: f.OpenRate(), ClickRate: f.ClickRate(),
		UnsubscribeRate: f.UnsubscribeRate(),
	}
}

func (h *handlers) GetPropertyAnalytics(ctx context.Context, r genserver.GetPropertyAnalyticsRequestObject) (genserver.GetPropertyAnalyticsResponseObject, error) {
	p := r.Params
	scope := axiom.PropertyScope{From: p.From, To: p.To}
	set(&scope.Status, (*string)(p.Status))
	a, err := h.analytics.Properties(ctx, accountID(ctx), scope)
	if err != nil {
		return nil, err
	}
	prices := func(ps axiom.PriceStats) gen.PriceStats {
		return gen.PriceStats{Currency: ps.Currency, Count: ps.Count, Min: axiom.FormatMinor(ps.Min, ps.Currency),
			Median: axiom.FormatMinor(ps.Median, ps.Currency), Max: axiom.FormatMinor(ps.Max, ps.Currency)}
	}
	out := gen.PropertyAnalytics{From: utcPtr(p.From), To: utcPtr(p.To), Total: a.Total, ByStatus: a.ByStatus, ByType: a.ByType,
		PricesByType: make([]gen.TypePriceStats, len(a.PricesByType)), PricesByCity: make([]gen.CityPriceStats, len(a.PricesByCity))}
	for i, t := range a.PricesByType {
		out.PricesByType[i] = gen.TypePriceStats{Type: gen.PropertyType(t.Type), Prices: prices(t.Prices)}
	}
	for i, c := range a.PricesByCity {
		out.PricesByCity[i] = gen.CityPriceStats{City: c.City, Country: c.Country, Prices: prices(c.Prices)}
	}
	return genserver.GetPropertyAnalytics200JSONResponse{Body: gen.PropertyAnalyticsEnvelope{Data: out}}, nil
}

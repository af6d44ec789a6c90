// Package analytics answers the read-only aggregates of the API over an
// account's leads, campaigns and listings. The rules (calendar intervals in
// a time zone, the figures and their rates) are the domain's; the store
// counts.
package analytics

import (
	"context"
	"errors"
	"time"

	"github.com/axiomkit/axiom"
)

// Store counts what the aggregates are made of.
type Store interface {
	CountLeads(ctx context.Context, accountID string, spans []axiom.Span, by axiom.LeadDimension) ([]map[string]int, error)
	CampaignPeriod(ctx context.Context, accountID string, from, to time.Time, q axiom.Query) (axiom.CampaignPeriod, error)
	PropertyStats(ctx context.Context, accountID string, scope axiom.PropertyScope) (axiom.PropertyAnalytics, error)
}

// Service computes the aggregates over a Store.
type Service struct {
	store Store
}

// New returns a Service over store.
func New(store Store) (*Service, error) {
	if store == nil {
		return nil, errors.New("analytics: a store is required")
	}
	return &Service{store: store}, nil
}

// LeadQuery asks for the leads created in [From, To), counted per Interval
// aligned in Zone (an IANA name, "" for UTC), split by GroupBy if set.
type LeadQuery struct {
	From, To time.Time
	Interval axiom.Interval
	Zone     string
	GroupBy  axiom.LeadDimension
}

// Leads returns the series of new leads of the query and the period's
// totals by source, type and status.
func (s *Service) Leads(ctx context.Context, accountID string, q LeadQuery) (axiom.LeadAnalytics, error) {
	loc, err := axiom.LoadZone(q.Zone)
	if err != nil {
		return axiom.LeadAnalytics{}, err
	}
	if q.Interval == "" {
		q.Interval = axiom.IntervalDay
	}
	spans, err := axiom.Intervals(q.From, q.To, q.Interval, loc)
	if err != nil {
		return axiom.LeadAnalytics{}, err
	}
	counts, err := s.store.CountLeads(ctx, accountID, spans, q.GroupBy)
	if err != nil {
		return axiom.LeadAnalytics{}, err
	}
	out := axiom.LeadAnalytics{From: q.From, To: q.To, Interval: q.Interval, Zone: loc, GroupBy: q.GroupBy,
		Totals: map[axiom.LeadDimension]map[string]int{}}
	out.Series, out.Total = axiom.LeadSeries(spans, counts, q.GroupBy)
	for _, dim := range axiom.LeadDimensions() {
		if dim == q.GroupBy { // the series has them already
			sum := map[string]int{}
			for _, c := range counts {
				for v, n := range c {
					sum[v] += n
				}
			}
			out.Totals[dim] = sum
			continue
		}
		c, err := s.store.CountLeads(ctx, accountID, []axiom.Span{{Start: q.From, End: q.To}}, dim)
		if err != nil {
			return axiom.LeadAnalytics{}, err
		}
		out.Totals[dim] = c[0]
	}
	return out, nil
}

// Campaigns returns the campaigns that started in [from, to): their
// totals and the page q of them.
func (s *Service) Campaigns(ctx context.Context, accountID string, from, to time.Time, q axiom.Query) (axiom.CampaignPeriod, error) {
	if err := axiom.CheckPeriod(from, to); err != nil {
		return axiom.CampaignPeriod{}, err
	}
	return s.store.CampaignPeriod(ctx, accountID, from, to, q)
}

// Properties returns the listings of scope by status and type (every one,
// 0 when none) and their prices by type and by city.
func (s *Service) Properties(ctx context.Context, accountID string, scope axiom.PropertyScope) (axiom.PropertyAnalytics, error) {
	if scope.From != nil && scope.To != nil {
		if err := axiom.CheckPeriod(*scope.From, *scope.To); err != nil {
			return axiom.PropertyAnalytics{}, err
		}
	}
	a, err := s.store.PropertyStats(ctx, accountID, scope)
	if err != nil {
		return axiom.PropertyAnalytics{}, err
	}
	return a.Complete(), nil
}

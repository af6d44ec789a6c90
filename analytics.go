package axiom

import (
	"math"
	"time"
)

// Interval is the length of each point of an analytics series.
type Interval string

// The intervals of a series.
const (
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
)

// MaxIntervals is the most points a series may have.
const MaxIntervals = 1000

// Span is the half-open period [Start, End).
type Span struct {
	Start, End time.Time
}

// LoadZone is the IANA time zone name; "" is UTC.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, Errorf(CodeInvalidParameter, "The parameter 'tz' is invalid: '%s' is not an IANA time zone", name)
	}
	return loc, nil
}

// CheckPeriod refuses a period that does not end after it starts.
func CheckPeriod(from, to time.Time) error {
	if !to.After(from) {
		return Errorf(CodeInvalidParameter, "The parameter 'to' is invalid: it must be after 'from'")
	}
	return nil
}

// Intervals cuts [from, to) into the calendar intervals of iv in loc, the
// first and last cut to the period: days begin at local midnight (or a
// skipped midnight's first instant), weeks on Monday, months on the 1st.
// A day that a zone skips whole has no interval. More than MaxIntervals is
// an invalid parameter.
func Intervals(from, to time.Time, iv Interval, loc *time.Location) ([]Span, error) {
	if err := CheckPeriod(from, to); err != nil {
		return nil, err
	}
	lt := from.In(loc)
	y, m, d := lt.Date()
	switch iv {
	case IntervalDay:
	case IntervalWeek:
		d -= (int(lt.Weekday()) + 6) % 7 // back to Monday
	case IntervalMonth:
		d = 1
	default:
		return nil, Errorf(CodeInvalidParameter, "The parameter 'interval' is invalid: '%s'", iv)
	}
	start := StartOfDay(y, m, d, loc)
	var spans []Span
	for start.Before(to) {
		switch iv {
		case IntervalDay:
			d++
		case IntervalWeek:
			d += 7
		case IntervalMonth:
			m++
		}
		end := StartOfDay(y, m, d, loc)
		if s := (Span{Start: later(start, from), End: earlier(end, to)}); s.Start.Before(s.End) {
			if len(spans) == MaxIntervals {
				return nil, Errorf(CodeInvalidParameter, "The period holds more than %d intervals of a %s: choose a longer interval or a shorter period", MaxIntervals, iv)
			}
			spans = append(spans, s)
		}
		start = end
	}
	return spans, nil
}

// StartOfDay is the first instant of the date y-m-d in loc (the date is
// normalized as time.Date does): its midnight, or where the zone skips
// midnight the first instant after the gap. For a date the zone skips
// whole, it is the first instant of the next date.
func StartOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	// Walk the zone's periods of constant offset from well before the date:
	// in each, the local date reaches y-m-d at wall minus the offset.
	u := wall.Add(-50 * time.Hour)
	for range 16 {
		_, off := u.In(loc).Zone()
		_, end := u.In(loc).ZoneBounds()
		c := later(u, wall.Add(-time.Duration(off)*time.Second))
		if end.IsZero() || c.Before(end) {
			return c
		}
		u = end
	}
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// LeadDimension is a field of leads their counts can be split by.
type LeadDimension string

// The dimensions of lead analytics; LeadTotal splits nothing.
const (
	LeadTotal    LeadDimension = ""
	LeadBySource LeadDimension = "source"
	LeadByType   LeadDimension = "type"
	LeadByStatus LeadDimension = "status"
)

// LeadDimensions lists the dimensions the totals are given by.
func LeadDimensions() []LeadDimension { return []LeadDimension{LeadBySource, LeadByType, LeadByStatus} }

// LeadPoint is the number of leads created in one interval, by the values
// of the series' dimension (empty when it has none).
type LeadPoint struct {
	Span
	Count  int
	Groups map[string]int
}

// LeadAnalytics are the leads created in a period.
type LeadAnalytics struct {
	From, To time.Time
	Interval Interval
	Zone     *time.Location
	GroupBy  LeadDimension
	Total    int
	Series   []LeadPoint
	Totals   map[LeadDimension]map[string]int
}

// LeadSeries makes the points of spans from their counts by the values of
// by (under "" for LeadTotal): every value seen in the period appears in
// every point, 0 where the point has none.
func LeadSeries(spans []Span, counts []map[string]int, by LeadDimension) (points []LeadPoint, total int) {
	seen := map[string]bool{}
	for _, c := range counts {
		for v := range c {
			seen[v] = true
		}
	}
	points = make([]LeadPoint, len(spans))
	for i, s := range spans {
		p := LeadPoint{Span: s, Groups: map[string]int{}}
		for _, n := range counts[i] {
			p.Count += n
		}
		if by != LeadTotal {
			for v := range seen {
				p.Groups[v] = counts[i][v]
			}
		}
		total += p.Count
		points[i] = p
	}
	return points, total
}

// CampaignFigures are what campaigns did: messages sent out (one per
// recipient), delivered (accepted by the relay) and failed, the recipients
// who opened, clicked or unsubscribed.
type CampaignFigures struct {
	Sent, Delivered, Failed   int
	UniqueOpens, UniqueClicks int
	Unsubscribes              int
}

// FiguresOf are the figures of a campaign's stats: the one mapping between
// the two, so that analytics and GET /campaigns/{id}/stats agree.
func FiguresOf(s CampaignStats) CampaignFigures {
	return CampaignFigures{
		Sent: s.Recipients, Delivered: s.Sent, Failed: s.Failed,
		UniqueOpens: s.UniqueOpens, UniqueClicks: s.UniqueClicks, Unsubscribes: s.Unsubscribes,
	}
}

// Add is the sum of f and g.
func (f CampaignFigures) Add(g CampaignFigures) CampaignFigures {
	return CampaignFigures{
		Sent: f.Sent + g.Sent, Delivered: f.Delivered + g.Delivered, Failed: f.Failed + g.Failed,
		UniqueOpens: f.UniqueOpens + g.UniqueOpens, UniqueClicks: f.UniqueClicks + g.UniqueClicks,
		Unsubscribes: f.Unsubscribes + g.Unsubscribes,
	}
}

// Rate is n/d rounded to 4 decimals, 0 when d is 0.
func Rate(n, d int) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*1e4) / 1e4
}

// The rates of f: delivered over sent; opens, clicks and unsubscribes over delivered.
func (f CampaignFigures) DeliveryRate() float64    { return Rate(f.Delivered, f.Sent) }
func (f CampaignFigures) OpenRate() float64        { return Rate(f.UniqueOpens, f.Delivered) }
func (f CampaignFigures) ClickRate() float64       { return Rate(f.UniqueClicks, f.Delivered) }
func (f CampaignFigures) UnsubscribeRate() float64 { return Rate(f.Unsubscribes, f.Delivered) }

// CampaignResult is one campaign that started in a period and its figures.
type CampaignResult struct {
	Campaign Campaign // its counts are not read
	Stats    CampaignStats
}

// CampaignPeriod is what the campaigns that started in a period did: how
// many, the sum of their stats, and one page of them.
type CampaignPeriod struct {
	From, To  time.Time
	Campaigns int
	Totals    CampaignStats
	Page      Page[CampaignResult]
}

// PriceStats are the prices of a group of listings in one currency, in its
// minor unit. Median is the lower median: always a price some listing has.
type PriceStats struct {
	Currency         string
	Count            int
	Min, Median, Max int64
}

// TypePrices are the price statistics of one type of listing.
type TypePrices struct {
	Type   string
	Prices PriceStats
}

// CityPrices are the price statistics of the listings of one city.
type CityPrices struct {
	City, Country string
	Prices        PriceStats
}

// PropertyScope selects the listings of property analytics: those created
// in [From, To) where set, in Status where set.
type PropertyScope struct {
	From, To *time.Time
	Status   string
}

// PropertyAnalytics are the listings of a scope by status and type, and
// their prices by type and by city.
type PropertyAnalytics struct {
	Scope            PropertyScope
	Total            int
	ByStatus, ByType map[string]int
	PricesByType     []TypePrices
	PricesByCity     []CityPrices
}

// Complete returns a with every status and type counted, 0 when none.
func (a PropertyAnalytics) Complete() PropertyAnalytics {
	fill := func(m map[string]int, keys []string) map[string]int {
		out := make(map[string]int, len(keys))
		for _, k := range keys {
			out[k] = m[k]
		}
		return out
	}
	a.ByStatus, a.ByType = fill(a.ByStatus, PropertyStatuses), fill(a.ByType, PropertyTypes)
	if a.PricesByType == nil {
		a.PricesByType = []TypePrices{}
	}
	if a.PricesByCity == nil {
		a.PricesByCity = []CityPrices{}
	}
	return a
}

// LowerMedian is the lower median of sorted, which is not empty.
func LowerMedian(sorted []int64) int64 { return sorted[(len(sorted)-1)/2] }

package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/analytics"
)

// Listings of the scale benchmarks: the cities of a large agency, drawn
// most often first (Zipf), prices spread over two orders of magnitude.
var (
	scaleCities = strings.Fields(`Lisbon Porto Faro Braga Coimbra Aveiro Funchal Setubal Evora Leiria Sintra
		Cascais Almada Amadora Oeiras Loures Odivelas Matosinhos Gaia Gondomar Maia Guimaraes Viseu Tavira
		Lagos Albufeira Portimao Olhao Loule Silves Beja Santarem Tomar Obidos Nazare Peniche Ericeira
		Mafra Torres Caldas Fatima Batalha Alcobaca Figueira Covilha Guarda Braganca Chaves Viana Barcelos`)
	scaleTitleWords = strings.Fields(`Bright Spacious Renovated Charming Modern Quiet Sunny Elegant Cosy Luxury
		flat house villa loft studio duplex penthouse townhouse cottage plot office shop warehouse
		with sea view garden terrace pool garage balcony near the river park centre beach station`)
)

type propertyGen struct {
	r    *rand.Rand
	city *rand.Zipf
}

func newPropertyGen() *propertyGen {
	r := rand.New(rand.NewPCG(13, 17))
	return &propertyGen{r: r, city: rand.NewZipf(r, 1.2, 2, uint64(len(scaleCities)-1))}
}

// property is the i-th listing, created over the three years of the leads.
func (g *propertyGen) property(accountID string, i int) axiom.Property {
	r := g.r
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
	var title []string
	for range 4 + r.IntN(4) {
		title = append(title, scaleTitleWords[r.IntN(len(scaleTitleWords))])
	}
	cur := "EUR"
	if r.IntN(10) == 0 {
		cur = "USD"
	}
	p := axiom.Property{
		ID: axiom.NewID(axiom.PrefixProperty, at), AccountID: accountID, Title: strings.Join(title, " "),
		Description: fmt.Sprintf("Listing %d. %s, close to shops and transport.", i, strings.Join(title[:3], " ")),
		Type:        axiom.PropertyTypes[min(r.IntN(10), len(axiom.PropertyTypes)-1)],
		Status:      axiom.PropertyStatuses[[]int{0, 0, 0, 0, 1, 2, 2, 3, 4}[r.IntN(9)]],
		Address: axiom.Address{Line1: fmt.Sprintf("%d Rua %s", 1+r.IntN(300), scaleTitleWords[r.IntN(len(scaleTitleWords))]),
			City: scaleCities[g.city.Uint64()], PostalCode: fmt.Sprintf("%04d-%03d", 1000+r.IntN(8000), r.IntN(1000)), Country: "PT"},
		// 50,000 to 5,000,000, in cents.
		Price:    axiom.Money{Minor: int64(50_000*100) * int64(1+r.IntN(100)), Currency: cur},
		Bedrooms: r.IntN(6), Bathrooms: float64(1 + r.IntN(4)), CreatedAt: at, UpdatedAt: at,
	}
	return p.Normalized()
}

// BenchmarkScaleLeadAnalytics times GET /analytics/leads's work (the
// series and the three totals, through the analytics service) for a year
// by day, and other shapes, on the account of a million leads; it reports
// the median and 99th percentile.
//
//	AXIOM_SCALE_BENCH=1 go test -run '^$' -bench ScaleLeadAnalytics -benchtime 200x ./internal/store/sqlite/
func BenchmarkScaleLeadAnalytics(b *testing.B) {
	db, accountID := scaleDB(b)
	svc, err := analytics.New(db)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	year := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var inYear int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM leads WHERE account_id = ? AND created_at >= ? AND created_at < ?",
		accountID, year.UnixMilli(), year.AddDate(1, 0, 0).UnixMilli()).Scan(&inYear); err != nil {
		b.Fatal(err)
	}
	b.Logf("the year counted holds %d of the account's leads", inYear)
	for _, tc := range []struct {
		name string
		q    analytics.LeadQuery
	}{
		{"year/day/UTC", analytics.LeadQuery{Interval: axiom.IntervalDay}},
		{"year/day/Lisbon", analytics.LeadQuery{Interval: axiom.IntervalDay, Zone: "Europe/Lisbon"}},
		{"year/day/Kathmandu", analytics.LeadQuery{Interval: axiom.IntervalDay, Zone: "Asia/Kathmandu"}},
		{"year/day/Lisbon/by-source", analytics.LeadQuery{Interval: axiom.IntervalDay, Zone: "Europe/Lisbon", GroupBy: axiom.LeadBySource}},
		{"year/day/New_York/by-status", analytics.LeadQuery{Interval: axiom.IntervalDay, Zone: "America/New_York", GroupBy: axiom.LeadByStatus}},
		{"year/week/Lisbon", analytics.LeadQuery{Interval: axiom.IntervalWeek, Zone: "Europe/Lisbon"}},
		{"year/month/Lisbon/by-type", analytics.LeadQuery{Interval: axiom.IntervalMonth, Zone: "Europe/Lisbon", GroupBy: axiom.LeadByType}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			q.From, q.To = year, year.AddDate(1, 0, 0)
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				a, err := svc.Leads(ctx, accountID, q)
				if err != nil {
					b.Fatal(err)
				}
				if a.Total != inYear {
					b.Fatalf("total %d; the year holds %d", a.Total, inYear)
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}

// BenchmarkScaleProperties times GET /properties with the filters users
// set, on the account's 100,000 listings, beside the million leads.
//
//	AXIOM_SCALE_BENCH=1 go test -run '^$' -bench ScaleProperties -benchtime 200x ./internal/store/sqlite/
func BenchmarkScaleProperties(b *testing.B) {
	db, accountID := scaleDB(b)
	ctx := context.Background()
	price := func(eur int64) *int64 { v := eur * 10_000; return &v }
	for _, tc := range []struct {
		name string
		q    axiom.Query
		f    axiom.PropertyFilter
	}{
		{"newest", axiom.Query{Sort: "created_at", Desc: true}, axiom.PropertyFilter{}},
		{"available/apartment/by-price", axiom.Query{Sort: "price"}, axiom.PropertyFilter{Status: "available", Type: "apartment"}},
		{"price-range/EUR/newest", axiom.Query{Sort: "created_at", Desc: true}, axiom.PropertyFilter{Currency: "EUR", MinPrice: price(300_000), MaxPrice: price(400_000)}},
		{"city/min-bedrooms/by-price", axiom.Query{Sort: "price", Desc: true}, axiom.PropertyFilter{City: "Porto", MinBedrooms: new(3)}},
		{"rare-city/available/newest", axiom.Query{Sort: "created_at", Desc: true}, axiom.PropertyFilter{City: "Barcelos", Status: "available"}},
		{"all-filters", axiom.Query{Sort: "price"}, axiom.PropertyFilter{Status: "available", Type: "house", City: "Lisbon",
			Currency: "EUR", MinPrice: price(500_000), MaxPrice: price(2_000_000), MinBedrooms: new(2)}},
		{"search/word", axiom.Query{Sort: "created_at", Desc: true, Search: "penthouse"}, axiom.PropertyFilter{}},
		{"search/two-words/available", axiom.Query{Sort: "price", Search: "sea view"}, axiom.PropertyFilter{Status: "available"}},
		{"page-50/by-price", axiom.Query{Sort: "price", Page: 50}, axiom.PropertyFilter{Status: "available"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			if q.Page == 0 {
				q.Page = 1
			}
			q.Limit = 20
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if _, err := db.ListProperties(ctx, accountID, q, tc.f); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}

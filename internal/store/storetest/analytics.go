package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

var analyticsTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"CountLeads", testCountLeads},
	{"CampaignPeriod", testCampaignPeriod},
	{"PropertyStats", testPropertyStats},
}

// testCountLeads creates leads at chosen times (around a change of clocks,
// month ends, odd quarter hours) and checks that CountLeads agrees with
// counting them one by one, for intervals of several zones, unaligned
// periods, and after leads change and go.
func testCountLeads(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 3, 25, 0, 0, 0, 0, time.UTC)
	sources := []string{"API", "Website", "Referral", ""}
	var leads []axiom.Lead
	for i := range 400 {
		// Minutes over three weeks, some on the very instant of a boundary.
		at := base.Add(time.Duration(r.IntN(21*24*60)) * time.Minute).Add(time.Duration(r.IntN(60_000)) * time.Millisecond)
		if i%40 == 0 {
			at = time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC) // Lisbon's clocks go forward
		}
		if i%50 == 0 {
			at = time.Date(2025, 3, 31, 18, 15, 0, 0, time.UTC) // midnight in Kathmandu (+05:45)
		}
		l := axiom.NewLead(a.ID, axiom.Lead{Name: fmt.Sprint("L", i), Email: fmt.Sprintf("l%d@example.com", i),
			Source: sources[r.IntN(len(sources))], Type: []string{"lead", "client"}[r.IntN(2)],
			Status: []string{"active", "inactive"}[r.IntN(2)]}, at)
		if err := s.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
		leads = append(leads, l)
	}
	// Another account's leads never count.
	for i := range 5 {
		createLead(t, s, axiom.Lead{AccountID: b.ID, Name: "B", Email: fmt.Sprintf("b%d@example.com", i)})
		if err := s.CreateLead(ctx, axiom.NewLead(b.ID, axiom.Lead{Name: "B", Email: fmt.Sprintf("old%d@example.com", i)}, base.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	value := func(l axiom.Lead, by axiom.LeadDimension) string {
		return map[axiom.LeadDimension]string{axiom.LeadTotal: "", axiom.LeadBySource: l.Source, axiom.LeadByType: l.Type, axiom.LeadByStatus: l.Status}[by]
	}
	check := func(what string, spans []axiom.Span) {
		t.Helper()
		for _, by := range []axiom.LeadDimension{axiom.LeadTotal, axiom.LeadBySource, axiom.LeadByType, axiom.LeadByStatus} {
			got, err := s.CountLeads(ctx, a.ID, spans, by)
			if err != nil {
				t.Fatalf("%s: CountLeads(%q): %v", what, by, err)
			}
			for i, sp := range spans {
				want := map[string]int{}
				for _, l := range leads {
					if !l.CreatedAt.Before(sp.Start) && l.CreatedAt.Before(sp.End) {
						want[value(l, by)]++
					}
				}
				if !maps.Equal(got[i], want) {
					t.Errorf("%s by %q, span %v – %v: %v; want %v", what, by, sp.Start, sp.End, got[i], want)
				}
			}
		}
	}
	from, to := base.Add(-time.Hour), base.Add(22*24*time.Hour)
	for _, tz := range []string{"UTC", "Europe/Lisbon", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"} {
		loc, err := axiom.LoadZone(tz)
		if err != nil {
			t.Fatal(err)
		}
		for _, iv := range []axiom.Interval{axiom.IntervalDay, axiom.IntervalWeek, axiom.IntervalMonth} {
			spans, err := axiom.Intervals(from, to, iv, loc)
			if err != nil {
				t.Fatal(err)
			}
			check(tz+" "+string(iv), spans)
		}
	}
	// Periods that start and end off any quarter hour, and one inside a quarter.
	odd := []axiom.Span{
		{Start: base.Add(7*time.Minute + 3*time.Second), End: base.Add(50*time.Hour + 11*time.Millisecond)},
		{Start: base.Add(26*time.Hour + time.Minute), End: base.Add(26*time.Hour + 9*time.Minute)},
		{Start: base, End: base.Add(21 * 24 * time.Hour)},
	}
	check("unaligned", odd)

	// Changes and deletions move and remove counts.
	for i := range 60 {
		l := leads[i*5]
		switch i % 3 {
		case 0:
			updated, err := s.UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Source: new("Changed"), Status: new("inactive")}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			leads[i*5] = updated
		case 1:
			if err := s.DeleteLead(ctx, a.ID, l.ID); err != nil {
				t.Fatal(err)
			}
			leads[i*5] = axiom.Lead{} // counts nowhere: the zero time is before every span
		case 2:
			if _, err := s.UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Name: new("Renamed")}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	leads = slices.DeleteFunc(leads, func(l axiom.Lead) bool { return l.ID == "" })
	spans, err := axiom.Intervals(from, to, axiom.IntervalDay, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	check("after changes", append(spans, odd...))
	// A lead list and the counts agree: every lead of the period, once.
	got, err := s.CountLeads(ctx, a.ID, []axiom.Span{{Start: from, End: to}}, axiom.LeadTotal)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 100, Sort: "created_at"})
	if err != nil {
		t.Fatal(err)
	}
	listed := len(page.Items)
	for pg := 2; page.HasMore; pg++ {
		if page, err = s.ListLeads(ctx, a.ID, axiom.Query{Page: pg, Limit: 100, Sort: "created_at"}); err != nil {
			t.Fatal(err)
		}
		listed += len(page.Items)
	}
	if got[0][""] != listed {
		t.Errorf("CountLeads = %d; ListLeads lists %d", got[0][""], listed)
	}
}

func testCampaignPeriod(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 4 {
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	before := now()
	time.Sleep(2 * time.Millisecond)
	var started []axiom.Campaign
	for i := range 3 {
		c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: fmt.Sprint("C", i), Template: tmpl.Slug}))
		enqueue(t, s, c, "", 10, nil)
		started = append(started, c)
		time.Sleep(2 * time.Millisecond)
	}
	createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Draft", Template: tmpl.Slug}) // never started
	after := now().Add(time.Millisecond)
	// Some outcomes and events.
	ms := allMessages(t, s, started[0])
	at := now()
	const worker = "wrk_analytics"
	if _, err := s.ClaimMessages(ctx, worker, at, time.Minute, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, worker, ms[0].ID, axiom.Outcome{Status: axiom.MessageSent, At: at}); err != nil {
		t.Fatal(err)
	}
	bounce, err := axiom.NewSuppression(a.ID, ms[1].To, axiom.SuppressBounced, "550", ms[1].CampaignID, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, worker, ms[1].ID, axiom.Outcome{Status: axiom.MessageFailed, Error: "550", Suppress: &bounce, At: at}); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{ms[0].OpenToken, ms[0].OpenToken, ms[2].OpenToken} {
		if err := s.RecordOpen(ctx, tok, at); err != nil {
			t.Fatal(err)
		}
	}
	gone := allMessages(t, s, started[1])[0]
	sup, err := axiom.NewSuppression(a.ID, gone.To, axiom.SuppressUnsubscribed, "link", gone.CampaignID, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, gone.UnsubscribeToken, sup); err != nil {
		t.Fatal(err)
	}

	p, err := s.CampaignPeriod(ctx, a.ID, before, after, axiom.Query{Page: 1, Limit: 2})
	if err != nil {
		t.Fatalf("CampaignPeriod: %v", err)
	}
	var sum axiom.CampaignStats
	for _, c := range started {
		st, err := s.CampaignStats(ctx, a.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum.Recipients += st.Recipients
		sum.Sent += st.Sent
		sum.Failed += st.Failed
		sum.Pending += st.Pending
		sum.Suppressed += st.Suppressed
		sum.Bounces += st.Bounces
		sum.Opens += st.Opens
		sum.UniqueOpens += st.UniqueOpens
		sum.Clicks += st.Clicks
		sum.UniqueClicks += st.UniqueClicks
		sum.Unsubscribes += st.Unsubscribes
	}
	if p.Campaigns != 3 || p.Totals != sum {
		t.Errorf("CampaignPeriod = %d campaigns, %+v; want 3, the sum of their stats %+v", p.Campaigns, p.Totals, sum)
	}
	if sum.Recipients != 12 || sum.Sent != 1 || sum.Failed != 1 || sum.UniqueOpens != 2 || sum.Unsubscribes != 1 || sum.Bounces != 1 {
		t.Errorf("stats %+v: not the outcomes recorded", sum)
	}
	// Most recently started first, a page at a time, each with its stats.
	var names []string
	for pg := 1; ; pg++ {
		p, err := s.CampaignPeriod(ctx, a.ID, before, after, axiom.Query{Page: pg, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Page.Items {
			st, err := s.CampaignStats(ctx, a.ID, r.Campaign.ID)
			if err != nil || st != r.Stats || r.Campaign.StartedAt == nil {
				t.Errorf("campaign %s: %+v; its stats %+v, %v", r.Campaign.Name, r.Stats, st, err)
			}
			names = append(names, r.Campaign.Name)
		}
		if !p.Page.HasMore {
			break
		}
	}
	if want := []string{"C2", "C1", "C0"}; !slices.Equal(names, want) {
		t.Errorf("campaigns = %v; want %v", names, want)
	}
	if p, err := s.CampaignPeriod(ctx, a.ID, after, after.Add(time.Hour), axiom.Query{Page: 1, Limit: 10}); err != nil ||
		p.Campaigns != 0 || p.Totals != (axiom.CampaignStats{}) || len(p.Page.Items) != 0 {
		t.Errorf("an empty period = %+v, %v", p, err)
	}
	other := newAccount(t, s)
	if p, err := s.CampaignPeriod(ctx, other.ID, before, after, axiom.Query{Page: 1, Limit: 10}); err != nil || p.Campaigns != 0 {
		t.Errorf("another account's period = %+v, %v", p, err)
	}
}

func testPropertyStats(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	r := rand.New(rand.NewPCG(3, 4))
	cities := []string{"Lisbon", "LISBON", "Porto", "Faro"}
	var props []axiom.Property
	start := now()
	for i := range 60 {
		cur := []string{"EUR", "EUR", "EUR", "USD"}[r.IntN(4)]
		p := createProperty(t, s, axiom.Property{AccountID: a.ID, Title: fmt.Sprint("P", i),
			Type: axiom.PropertyTypes[r.IntN(3)], Status: axiom.PropertyStatuses[r.IntN(3)],
			Address: axiom.Address{Line1: "1", City: cities[r.IntN(len(cities))], Country: "PT"},
			Price:   axiom.Money{Minor: int64(r.IntN(50)) * 1_000_000, Currency: cur}})
		props = append(props, p)
	}
	for _, scope := range []axiom.PropertyScope{{}, {Status: "available"}, {From: &start, To: new(start.Add(time.Hour))}, {To: &start}} {
		got, err := s.PropertyStats(ctx, a.ID, scope)
		if err != nil {
			t.Fatalf("PropertyStats(%+v): %v", scope, err)
		}
		in := func(p axiom.Property) bool {
			return (scope.Status == "" || p.Status == scope.Status) && (scope.From == nil || !p.CreatedAt.Before(*scope.From)) &&
				(scope.To == nil || p.CreatedAt.Before(*scope.To))
		}
		want := axiom.PropertyAnalytics{Scope: scope, ByStatus: map[string]int{}, ByType: map[string]int{}}
		byType, byCity := map[[2]string][]int64{}, map[[3]string][]int64{}
		for _, p := range props {
			if !in(p) {
				continue
			}
			want.Total++
			want.ByStatus[p.Status]++
			want.ByType[p.Type]++
			byType[[2]string{p.Type, p.Price.Currency}] = append(byType[[2]string{p.Type, p.Price.Currency}], p.Price.Minor)
			k := [3]string{p.Address.Country, axiom.CityKey(p.Address.City), p.Price.Currency}
			byCity[k] = append(byCity[k], p.Price.Minor)
		}
		stats := func(cur string, prices []int64) axiom.PriceStats {
			slices.Sort(prices)
			return axiom.PriceStats{Currency: cur, Count: len(prices), Min: prices[0], Median: axiom.LowerMedian(prices), Max: prices[len(prices)-1]}
		}
		for _, k := range slices.SortedFunc(maps.Keys(byType), func(x, y [2]string) int { return compareKeys(x[:], y[:]) }) {
			want.PricesByType = append(want.PricesByType, axiom.TypePrices{Type: k[0], Prices: stats(k[1], byType[k])})
		}
		for _, k := range slices.SortedFunc(maps.Keys(byCity), func(x, y [3]string) int { return compareKeys(x[:], y[:]) }) {
			// The city as one of its listings writes it: the least, byte-wise.
			city := ""
			for _, p := range props {
				if in(p) && axiom.CityKey(p.Address.City) == k[1] && p.Price.Currency == k[2] && (city == "" || p.Address.City < city) {
					city = p.Address.City
				}
			}
			want.PricesByCity = append(want.PricesByCity, axiom.CityPrices{City: city, Country: k[0], Prices: stats(k[2], byCity[k])})
		}
		if want.Total == 0 {
			want.ByStatus, want.ByType = map[string]int{}, map[string]int{}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("PropertyStats(%+v):\n got %+v\nwant %+v", scope, got, want)
		}
	}
}

func compareKeys(x, y []string) int {
	for i := range x {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// testLeadCountsUnderConcurrentChanges changes the statuses of leads of one
// quarter hour in opposite directions at once, from every store, while
// others are created and deleted: the counts stay exact, and no change
// fails (as one would in a deadlock between two counters).
func testLeadCountsUnderConcurrentChanges(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	a := newAccount(t, s)
	at := now()
	var leads []axiom.Lead
	for i := range 40 {
		l := axiom.NewLead(a.ID, axiom.Lead{Name: fmt.Sprint("L", i), Email: fmt.Sprintf("c%d@example.com", i),
			Status: []string{"active", "inactive"}[i%2]}, at)
		if err := s.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
		leads = append(leads, l)
	}
	var wg sync.WaitGroup
	for round := range 4 {
		for i, l := range leads {
			wg.Go(func() {
				// Half go active to inactive while the other half go back.
				status := []string{"inactive", "active"}[(i+round)%2]
				if _, err := ss[i%len(ss)].UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Status: &status, Source: new(fmt.Sprint("s", round))}, time.Now()); err != nil {
					t.Errorf("UpdateLead: %v", err)
				}
			})
		}
		for i := range 5 {
			wg.Go(func() {
				l := axiom.NewLead(a.ID, axiom.Lead{Name: "New", Email: fmt.Sprintf("n%d-%d@example.com", round, i)}, at)
				if err := ss[i%len(ss)].CreateLead(ctx, l); err != nil {
					t.Errorf("CreateLead: %v", err)
				}
			})
		}
		wg.Wait()
	}
	for i := range 10 {
		if err := ss[i%len(ss)].DeleteLead(ctx, a.ID, leads[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	all := listAll(t, s, a.ID, axiom.Query{Limit: 100, Sort: "created_at"})
	span := []axiom.Span{{Start: at.Add(-time.Hour), End: at.Add(time.Hour)}}
	for _, by := range []axiom.LeadDimension{axiom.LeadTotal, axiom.LeadByStatus, axiom.LeadBySource} {
		got, err := s.CountLeads(ctx, a.ID, span, by)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for _, l := range all {
			want[map[axiom.LeadDimension]string{axiom.LeadTotal: "", axiom.LeadByStatus: l.Status, axiom.LeadBySource: l.Source}[by]]++
		}
		if !maps.Equal(got[0], want) {
			t.Errorf("counts by %q after concurrent changes: %v; the list has %v", by, got[0], want)
		}
	}
}

package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/servertest"
)

func (a api) property(body map[string]any) gen.Property {
	a.t.Helper()
	var env gen.PropertyEnvelope
	a.do("POST", "/properties/add", body, 201, &env)
	return env.Data
}

func listing(title, typ, city string, amount, currency string, bedrooms int) map[string]any {
	return map[string]any{"title": title, "type": typ, "bedrooms": bedrooms,
		"address": map[string]any{"line1": "1 Main Street", "city": city, "country": "PT"},
		"price":   map[string]any{"amount": amount, "currency": currency}}
}

func TestPropertyCRUDAndMoney(t *testing.T) {
	srv := newServer(t)
	a := api{t, srv, srv.Key}
	body := listing("Flat with a view", "apartment", "Lisbon", "450000.5", "EUR", 2)
	body["coordinates"] = map[string]any{"latitude": 38.7139, "longitude": -9.1394}
	body["floor_area"] = map[string]any{"value": 85.5, "unit": "sqm"}
	body["bathrooms"] = 1.5
	body["tags"] = []string{"sea-view"}
	p := a.property(body)
	if !axiom.ValidID(axiom.PrefixProperty, p.ID) || p.Status != gen.PropertyStatusAvailable || p.Price != (gen.Money{Amount: "450000.50", Currency: "EUR"}) ||
		p.Coordinates == nil || p.Coordinates.Latitude != 38.7139 || p.FloorArea == nil || p.Bathrooms != 1.5 || *p.Address.Line2 != "" {
		t.Fatalf("created: %+v", p)
	}
	var got gen.PropertyEnvelope
	a.do("GET", "/properties/"+p.ID, nil, 200, &got)
	if got.Data.Price != p.Price || got.Data.Title != p.Title || !got.Data.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("GET = %+v; want %+v", got.Data, p)
	}
	// Exact amounts: every decimal of the currency, none more, whatever its size.
	for _, tc := range []struct {
		amount, currency, want string
	}{
		{"450000", "JPY", "450000"}, {"0.001", "BHD", "0.001"}, {"999999999999999.99", "USD", "999999999999999.99"},
		{"1.2345", "CLF", "1.2345"}, {"7", "EUR", "7.00"},
	} {
		q := a.property(listing("X", "land", "Faro", tc.amount, tc.currency, 0))
		if q.Price.Amount != tc.want || q.Price.Currency != tc.currency {
			t.Errorf("%s %s: price %+v; want %s", tc.amount, tc.currency, q.Price, tc.want)
		}
	}
	for _, tc := range []struct{ amount, currency string }{
		{"1.5", "JPY"}, {"1.001", "EUR"}, {"1", "XAU"}, {"1", "DEM"}, {"1", "XXX"}, {"1", "eur"}, {"1e5", "EUR"},
		{"-1", "EUR"}, {"01", "EUR"}, {"1.", "EUR"}, {"9999999999999999", "EUR"},
	} {
		msg := a.fail("POST", "/properties/add", listing("X", "land", "Faro", tc.amount, tc.currency, 0), 400, gen.ErrorCodeInvalidParameter)
		if !strings.Contains(msg, "price") && !strings.Contains(msg, "amount") && !strings.Contains(msg, "currency") {
			t.Errorf("%s %s: message %q does not name the price", tc.amount, tc.currency, msg)
		}
	}
	// A price as a JSON number is refused: amounts are strings.
	bad := listing("X", "land", "Faro", "1", "EUR", 0)
	bad["price"] = map[string]any{"amount": 1.5, "currency": "EUR"}
	a.fail("POST", "/properties/add", bad, 400, gen.ErrorCodeInvalidParameter)

	var upd gen.PropertyEnvelope
	a.do("PATCH", "/properties/"+p.ID, map[string]any{"price": map[string]any{"amount": "425000", "currency": "EUR"}, "status": "under_offer"}, 200, &upd)
	if upd.Data.Price.Amount != "425000.00" || upd.Data.Status != gen.PropertyStatusUnderOffer || upd.Data.Title != p.Title || !upd.Data.UpdatedAt.After(p.UpdatedAt) {
		t.Errorf("PATCH = %+v", upd.Data)
	}
	a.fail("PATCH", "/properties/"+p.ID, map[string]any{"price": map[string]any{"amount": "1.001", "currency": "EUR"}}, 400, gen.ErrorCodeInvalidParameter)
	a.do("GET", "/properties/"+p.ID, nil, 200, &got)
	if got.Data.Price.Amount != "425000.00" {
		t.Errorf("a refused PATCH changed the price: %+v", got.Data.Price)
	}
	a.fail("PATCH", "/properties/"+p.ID, map[string]any{}, 400, gen.ErrorCodeInvalidParameter)
	a.do("DELETE", "/properties/"+p.ID, nil, 204, nil)
	a.fail("GET", "/properties/"+p.ID, nil, 404, gen.ErrorCodeNotFound)
	a.fail("GET", "/properties/cnt_123", nil, 400, gen.ErrorCodeInvalidParameter)
}

func TestPropertyListFilters(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	a := api{t, srv, srv.Key}
	flat := a.property(listing("Sunny flat", "apartment", "Lisbon", "300000", "EUR", 2))
	house := a.property(listing("Family house", "house", "LISBON", "750000", "EUR", 4))
	yen := a.property(listing("Tokyo flat", "apartment", "Tokyo", "40000000", "JPY", 1))
	list := func(q string) []string {
		t.Helper()
		var l gen.PropertyList
		a.do("GET", "/properties?"+q, nil, 200, &l)
		var out []string
		for _, p := range l.Data {
			out = append(out, p.ID)
		}
		return out
	}
	for q, want := range map[string][]string{
		"sort=created_at&order=asc":                         {flat.ID, house.ID, yen.ID},
		"type=apartment&sort=created_at&order=asc":          {flat.ID, yen.ID},
		"city=lisbon&sort=price&order=desc":                 {house.ID, flat.ID},
		"min_bedrooms=2&sort=price&order=asc":               {flat.ID, house.ID},
		"min_price=299999.99&max_price=300000&currency=EUR": {flat.ID},
		"search=FLAT&currency=JPY":                          {yen.ID},
		"search=sun+lis":                                    {flat.ID},
		"status=sold":                                       nil,
	} {
		if got := list(q); !slices.Equal(got, want) {
			t.Errorf("GET /properties?%s = %v; want %v", q, got, want)
		}
	}
	a.fail("GET", "/properties?currency=XAU", nil, 400, gen.ErrorCodeInvalidParameter)
	a.fail("GET", "/properties?min_price=1.23456", nil, 400, gen.ErrorCodeInvalidParameter)
	a.fail("GET", "/properties?sort=name", nil, 400, gen.ErrorCodeInvalidParameter)
	a.fail("GET", "/properties?limit=101", nil, 400, gen.ErrorCodeInvalidParameter)
}

func TestPropertyLeadLinks(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	a := api{t, srv, srv.Key}
	p := a.property(listing("Flat", "apartment", "Lisbon", "300000", "EUR", 2))
	jane := a.lead("Jane", "jane@example.com", nil, "", nil)
	bob := a.lead("Bob", "bob@example.com", nil, "", nil)
	var link gen.PropertyLinkEnvelope
	a.do("PUT", "/properties/"+p.ID+"/leads/"+jane.ID, map[string]any{"relation": "interested"}, 201, &link)
	if link.Data.Relation != gen.PropertyRelationInterested || link.Data.LeadID != jane.ID {
		t.Fatalf("link: %+v", link.Data)
	}
	a.do("PUT", "/properties/"+p.ID+"/leads/"+jane.ID, map[string]any{"relation": "interested"}, 200, nil)
	a.do("PUT", "/properties/"+p.ID+"/leads/"+jane.ID, map[string]any{"relation": "offer"}, 200, &link)
	if link.Data.Relation != gen.PropertyRelationOffer {
		t.Errorf("relation after change: %s", link.Data.Relation)
	}
	a.do("PUT", "/properties/"+p.ID+"/leads/"+bob.ID, map[string]any{"relation": "owner"}, 201, nil)
	a.fail("PUT", "/properties/"+p.ID+"/leads/"+bob.ID, map[string]any{"relation": "tenant"}, 400, gen.ErrorCodeInvalidParameter)
	a.fail("PUT", "/properties/"+p.ID+"/leads/cnt_nope", map[string]any{"relation": "owner"}, 404, gen.ErrorCodeNotFound)
	a.fail("PUT", "/properties/prp_nope/leads/"+bob.ID, map[string]any{"relation": "owner"}, 404, gen.ErrorCodeNotFound)

	var pl gen.PropertyLeadList
	a.do("GET", "/properties/"+p.ID+"/leads?relation=offer", nil, 200, &pl)
	if pl.Length != 1 || pl.Data[0].Lead.ID != jane.ID || pl.Data[0].Lead.Email != jane.Email {
		t.Errorf("leads of the property (offer): %+v", pl)
	}
	var lp gen.LeadPropertyList
	a.do("GET", "/leads/"+bob.ID+"/properties", nil, 200, &lp)
	if lp.Length != 1 || lp.Data[0].Property.ID != p.ID || lp.Data[0].Relation != gen.PropertyRelationOwner {
		t.Errorf("properties of the lead: %+v", lp)
	}
	// Deleting a lead removes its links; deleting the listing removes the rest.
	a.do("DELETE", "/leads/"+bob.ID, nil, 204, nil)
	a.do("GET", "/properties/"+p.ID+"/leads", nil, 200, &pl)
	if pl.Length != 1 || pl.Data[0].Lead.ID != jane.ID {
		t.Errorf("leads after a lead's deletion: %+v", pl)
	}
	a.do("DELETE", "/properties/"+p.ID+"/leads/"+jane.ID, nil, 204, nil)
	a.fail("DELETE", "/properties/"+p.ID+"/leads/"+jane.ID, nil, 404, gen.ErrorCodeNotFound)
	a.do("PUT", "/properties/"+p.ID+"/leads/"+jane.ID, map[string]any{"relation": "viewing"}, 201, nil)
	a.do("DELETE", "/properties/"+p.ID, nil, 204, nil)
	a.do("GET", "/leads/"+jane.ID+"/properties", nil, 200, &lp)
	if lp.Length != 0 {
		t.Errorf("links after the listing's deletion: %+v", lp)
	}
}

// Every new operation, tried with another account's ids, answers 404 and
// changes nothing.
func TestPropertyAccountIsolation(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	owner := api{t, srv, srv.Key}
	other := api{t, srv, srv.NewAccountKey(t, axiom.PlanStarter)}
	p := owner.property(listing("Flat", "apartment", "Lisbon", "300000", "EUR", 2))
	l := owner.lead("Jane", "jane@example.com", nil, "", nil)
	owner.do("PUT", "/properties/"+p.ID+"/leads/"+l.ID, map[string]any{"relation": "owner"}, 201, nil)
	theirLead := other.lead("Mallory", "m@example.com", nil, "", nil)
	theirProp := other.property(listing("Theirs", "house", "Porto", "1", "EUR", 1))
	before := owner.do("GET", "/properties/"+p.ID, nil, 200, nil)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/properties/" + p.ID, nil},
		{"PATCH", "/properties/" + p.ID, map[string]any{"title": "Mine"}},
		{"DELETE", "/properties/" + p.ID, nil},
		{"GET", "/properties/" + p.ID + "/leads", nil},
		{"PUT", "/properties/" + p.ID + "/leads/" + theirLead.ID, map[string]any{"relation": "offer"}},
		{"PUT", "/properties/" + theirProp.ID + "/leads/" + l.ID, map[string]any{"relation": "offer"}},
		{"DELETE", "/properties/" + p.ID + "/leads/" + l.ID, nil},
		{"GET", "/leads/" + l.ID + "/properties", nil},
	} {
		other.fail(tc.method, tc.path, tc.body, 404, gen.ErrorCodeNotFound)
	}
	tpl := other.template("Hi", "<p>Hi</p>")
	other.fail("POST", "/campaigns/add", map[string]any{"name": "C", "template": tpl, "audience": map[string]any{"properties": []string{p.ID}}},
		422, gen.ErrorCodePropertyNotFound)
	if after := owner.do("GET", "/properties/"+p.ID, nil, 200, nil); string(after) != string(before) {
		t.Errorf("the listing changed:\n%s\n%s", before, after)
	}
	var pl gen.PropertyLeadList
	owner.do("GET", "/properties/"+p.ID+"/leads", nil, 200, &pl)
	if pl.Length != 1 || pl.Data[0].Relation != gen.PropertyRelationOwner {
		t.Errorf("links changed: %+v", pl)
	}
	var list gen.PropertyList
	other.do("GET", "/properties", nil, 200, &list)
	if list.Length != 1 || list.Data[0].ID != theirProp.ID {
		t.Errorf("the other account lists %+v", list.Data)
	}
	var st gen.PropertyAnalyticsEnvelope
	other.do("GET", "/analytics/properties", nil, 200, &st)
	if st.Data.Total != 1 {
		t.Errorf("the other account's property analytics count %d listings", st.Data.Total)
	}
}

// A campaign's audience by property reaches the leads linked to it by the
// relations asked, and no one else: everyone interested in a listing whose
// price dropped.
func TestCampaignAudienceByProperty(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	a := api{t, srv, srv.Key}
	p := a.property(listing("Flat", "apartment", "Lisbon", "300000", "EUR", 2))
	q := a.property(listing("House", "house", "Lisbon", "500000", "EUR", 3))
	interested := a.lead("Ivy", "ivy@example.com", nil, "", nil)
	viewing := a.lead("Vic", "vic@example.com", nil, "", nil)
	owner := a.lead("Ole", "ole@example.com", nil, "", nil)
	elsewhere := a.lead("Eve", "eve@example.com", nil, "", nil)
	gone := a.lead("Una", "una@example.com", nil, "unsubscribed", nil)
	a.lead("Noone", "noone@example.com", nil, "", nil)
	for lead, rel := range map[string]string{interested.ID: "interested", viewing.ID: "viewing", owner.ID: "owner", gone.ID: "interested"} {
		a.do("PUT", "/properties/"+p.ID+"/leads/"+lead, map[string]any{"relation": rel}, 201, nil)
	}
	a.do("PUT", "/properties/"+q.ID+"/leads/"+elsewhere.ID, map[string]any{"relation": "interested"}, 201, nil)
	a.do("PATCH", "/properties/"+p.ID, map[string]any{"price": map[string]any{"amount": "280000", "currency": "EUR"}}, 200, nil)
	tpl := a.template("Price drop", "<p>New price</p>")
	c := a.campaign(map[string]any{"name": "Price drop", "template": tpl,
		"audience": map[string]any{"properties": []string{p.ID}, "relations": []string{"interested", "viewing"}}})
	if c.Audience.Properties == nil || (*c.Audience.Properties)[0] != p.ID || len(*c.Audience.Relations) != 2 {
		t.Fatalf("audience: %+v", c.Audience)
	}
	a.send(c.ID)
	a.waitStatus(c.ID, gen.CampaignStatusSent)
	var to, suppressed []string
	for _, m := range a.messages(c.ID) {
		if m.Status == gen.CampaignMessageStatusSuppressed {
			suppressed = append(suppressed, m.To)
			continue
		}
		to = append(to, m.To)
	}
	slices.Sort(to)
	if want := []string{"ivy@example.com", "vic@example.com"}; !slices.Equal(to, want) {
		t.Errorf("recipients %v; want %v", to, want)
	}
	// The unsubscribed lead is recorded as suppressed, never mailed.
	if want := []string{"una@example.com"}; !slices.Equal(suppressed, want) {
		t.Errorf("suppressed %v; want %v", suppressed, want)
	}
	// Every relation when none is named.
	all := a.campaign(map[string]any{"name": "All of p", "template": tpl, "audience": map[string]any{"properties": []string{p.ID, q.ID}}})
	if got := a.send(all.ID); got.Counts.Recipients != 4 {
		t.Errorf("audience of two listings, any relation: %d recipients; want 4", got.Counts.Recipients)
	}
	a.fail("POST", "/campaigns/add", map[string]any{"name": "X", "template": tpl, "audience": map[string]any{"properties": []string{"prp_nope"}}},
		422, gen.ErrorCodePropertyNotFound)
	draft := a.campaign(map[string]any{"name": "D", "template": tpl})
	a.fail("PATCH", "/campaigns/"+draft.ID, map[string]any{"audience": map[string]any{"properties": []string{"prp_nope"}}}, 422, gen.ErrorCodePropertyNotFound)
}

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// The lead analytics agree with the lead list: leads created through the
// API on chosen days (around Lisbon's change of clocks and a month's end)
// are counted per day both ways, in two zones.
func TestLeadAnalyticsAgreeWithTheList(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := newServer(t, servertest.WithoutRateLimit(), servertest.WithClock(clk.now))
	a := api{t, srv, srv.Key}
	times := []string{
		"2025-03-29T23:30:00Z", "2025-03-30T00:00:00Z", "2025-03-30T00:59:59Z", "2025-03-30T01:00:00Z", // Lisbon: 1 h becomes 2 h
		"2025-03-30T22:59:59Z", "2025-03-30T23:00:00Z", "2025-03-31T23:00:00Z", "2025-03-31T22:59:59.999Z", // month end in Lisbon (+01:00)
		"2025-04-01T00:00:00Z", "2025-04-02T12:00:00Z", "2025-04-06T23:59:59Z", "2025-04-07T00:00:00Z",
	}
	sources := []string{"API", "Website", "API", "Referral"}
	for i, ts := range times {
		at, _ := time.Parse(time.RFC3339Nano, ts)
		clk.set(at)
		a.do("POST", "/leads/add", map[string]any{"name": fmt.Sprint("L", i), "email": fmt.Sprintf("l%d@example.com", i), "source": sources[i%4]}, 201, nil)
	}
	clk.set(time.Now())
	// The list, counted by hand.
	var leads gen.LeadList
	a.do("GET", "/leads?limit=100", nil, 200, &leads)
	for _, tz := range []string{"UTC", "Europe/Lisbon"} {
		for _, iv := range []string{"day", "week", "month"} {
			q := url.Values{"from": {"2025-03-28T00:00:00Z"}, "to": {"2025-04-10T00:00:00Z"}, "interval": {iv}, "tz": {tz}, "group_by": {"source"}}
			var env gen.LeadAnalyticsEnvelope
			a.do("GET", "/analytics/leads?"+q.Encode(), nil, 200, &env)
			an := env.Data
			sum := 0
			for i, pt := range an.Series {
				n, bySource := 0, map[string]int{}
				for _, l := range leads.Data {
					if !l.CreatedAt.Before(pt.Start) && l.CreatedAt.Before(pt.End) {
						n++
						bySource[l.Source]++
					}
				}
				if pt.Count != n {
					t.Errorf("%s %s point %d (%s – %s): %d leads; the list has %d", tz, iv, i, pt.Start, pt.End, pt.Count, n)
				}
				for s, c := range pt.Groups {
					if c != bySource[s] {
						t.Errorf("%s %s point %d, source %s: %d; the list has %d", tz, iv, i, s, c, bySource[s])
					}
				}
				if len(pt.Groups) != 3 {
					t.Errorf("%s %s point %d groups %v: want every source of the period, zeros included", tz, iv, i, pt.Groups)
				}
				if i > 0 && !pt.Start.Equal(an.Series[i-1].End) {
					t.Errorf("%s %s: a gap before point %d", tz, iv, i)
				}
				sum += pt.Count
			}
			if sum != len(times) || an.Total != len(times) || an.Totals.Source["API"] != 6 || an.Totals.Type["lead"] != len(times) {
				t.Errorf("%s %s: series sum %d, total %d, totals %+v; want %d", tz, iv, sum, an.Total, an.Totals, len(times))
			}
			// 13 UTC days; in Lisbon the last day begins at 23:00 UTC, before the period ends.
			if want := map[string]int{"UTC": 13, "Europe/Lisbon": 14}[tz]; iv == "day" && len(an.Series) != want {
				t.Errorf("%s: %d days; want %d, empty ones included", tz, len(an.Series), want)
			}
		}
	}
	// In Lisbon the day of the change lasts 23 hours.
	var env gen.LeadAnalyticsEnvelope
	a.do("GET", "/analytics/leads?"+url.Values{"from": {"2025-03-30T00:00:00Z"}, "to": {"2025-03-31T00:00:00+01:00"}, "tz": {"Europe/Lisbon"}}.Encode(), nil, 200, &env)
	if len(env.Data.Series) != 1 || env.Data.Series[0].End.Sub(env.Data.Series[0].Start) != 23*time.Hour || env.Data.Series[0].Count != 4 {
		t.Errorf("Lisbon's short day: %+v", env.Data.Series)
	}
	for _, q := range []string{
		"from=2025-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
		"from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z",
		"from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&interval=day",
		"from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&tz=Mars/Olympus",
		"from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&tz=Local",
		"from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&group_by=email",
		"from=yesterday&to=2025-02-01T00:00:00Z",
		"to=2025-02-01T00:00:00Z",
	} {
		a.fail("GET", "/analytics/leads?"+q, nil, 400, gen.ErrorCodeInvalidParameter)
	}
}

// The campaign analytics agree with each campaign's stats.
func TestCampaignAnalyticsAgreeWithStats(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	a := api{t, srv, srv.Key}
	for i := range 3 {
		a.lead(fmt.Sprint("L", i), fmt.Sprintf("l%d@example.com", i), []string{"buyer"}, "", nil)
	}
	tpl := a.template("Hi", `<p><a href="https://example.com/x">x</a></p>`)
	from := time.Now().Add(-time.Minute)
	var ids []string
	for i := range 2 {
		c := a.campaign(map[string]any{"name": fmt.Sprint("C", i), "template": tpl})
		a.send(c.ID)
		a.waitStatus(c.ID, gen.CampaignStatusSent)
		ids = append(ids, c.ID)
	}
	a.campaign(map[string]any{"name": "Draft", "template": tpl})
	// Opens, a click and an unsubscribe through the public links.
	ms := a.liveMessages(ids[0])
	for _, m := range ms[:2] {
		if resp, _ := call(t, "GET", srv.PublicURL+"/t/o/"+pixelRE.FindStringSubmatch(m.HTML)[1], "", "", nil); resp.StatusCode != 200 {
			t.Fatalf("open: %d", resp.StatusCode)
		}
	}
	if resp, _ := call(t, "POST", srv.PublicURL+"/u/"+unsubRE.FindStringSubmatch(ms[2].HTML)[1], "", "application/x-www-form-urlencoded",
		strings.NewReader("List-Unsubscribe=One-Click")); resp.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	q := url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {time.Now().Add(time.Minute).Format(time.RFC3339Nano)}}
	var env gen.CampaignAnalyticsEnvelope
	a.do("GET", "/analytics/campaigns?"+q.Encode(), nil, 200, &env)
	an := env.Data
	var sum gen.CampaignStats
	for _, id := range ids {
		st := a.stats(id)
		sum.Recipients += st.Recipients
		sum.Sent += st.Sent
		sum.Failed += st.Failed
		sum.UniqueOpens += st.UniqueOpens
		sum.UniqueClicks += st.UniqueClicks
		sum.Unsubscribes += st.Unsubscribes
		for _, c := range an.Campaigns {
			if c.ID == id && (c.Figures.Sent != st.Recipients || c.Figures.Delivered != st.Sent || c.Figures.UniqueOpens != st.UniqueOpens ||
				c.Figures.Unsubscribes != st.Unsubscribes) {
				t.Errorf("campaign %s: %+v; its stats %+v", id, c.Figures, st)
			}
		}
	}
	f := an.Totals.Figures
	if an.Totals.Campaigns != 2 || an.Length != 2 || f.Sent != sum.Recipients || f.Delivered != sum.Sent || f.UniqueOpens != sum.UniqueOpens ||
		f.Unsubscribes != sum.Unsubscribes || f.Sent != 6 || f.UniqueOpens != 2 || f.Unsubscribes != 1 {
		t.Errorf("totals %+v; the stats sum to %+v", an.Totals, sum)
	}
	if want := axiom.Rate(2, 6); f.OpenRate != want || f.DeliveryRate != 1 {
		t.Errorf("rates %+v; want open rate %v, delivery rate 1", f, want)
	}
	if an.Campaigns[0].ID != ids[1] {
		t.Errorf("the most recently started first: %s, %s", an.Campaigns[0].ID, an.Campaigns[1].ID)
	}
	a.fail("GET", "/analytics/campaigns?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", nil, 400, gen.ErrorCodeInvalidParameter)
}

// The property analytics agree with the list of listings.
func TestPropertyAnalyticsAgreeWithTheList(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	a := api{t, srv, srv.Key}
	for i, tc := range []struct{ typ, city, amount, cur string }{
		{"apartment", "Lisbon", "300000", "EUR"}, {"apartment", "lisbon", "200000.10", "EUR"}, {"apartment", "Lisbon", "500000", "EUR"},
		{"apartment", "Lisbon", "250000", "EUR"}, {"house", "Porto", "700000", "EUR"}, {"house", "Porto", "90000000", "JPY"},
	} {
		p := a.property(listing(fmt.Sprint("P", i), tc.typ, tc.city, tc.amount, tc.cur, 2))
		if i == 4 {
			a.do("PATCH", "/properties/"+p.ID, map[string]any{"status": "sold"}, 200, nil)
		}
	}
	var env gen.PropertyAnalyticsEnvelope
	a.do("GET", "/analytics/properties", nil, 200, &env)
	an := env.Data
	var list gen.PropertyList
	a.do("GET", "/properties?limit=100", nil, 200, &list)
	if an.Total != list.Length || an.ByStatus["available"] != 5 || an.ByStatus["sold"] != 1 || an.ByStatus["rented"] != 0 ||
		an.ByType["apartment"] != 4 || an.ByType["office"] != 0 || len(an.ByType) != len(axiom.PropertyTypes) {
		t.Errorf("counts %+v; the list has %d", an, list.Length)
	}
	// Apartments in EUR: 200000.10, 250000, 300000, 500000: the lower median is 250000.00.
	want := gen.PriceStats{Currency: "EUR", Count: 4, Min: "200000.10", Median: "250000.00", Max: "500000.00"}
	if len(an.PricesByType) != 3 || an.PricesByType[0].Type != gen.PropertyTypeApartment || an.PricesByType[0].Prices != want {
		t.Errorf("prices by type %+v; want apartments %+v", an.PricesByType, want)
	}
	if len(an.PricesByCity) != 3 || an.PricesByCity[0].Prices != want || !strings.EqualFold(an.PricesByCity[0].City, "lisbon") ||
		an.PricesByCity[2].Prices.Median != "90000000" {
		t.Errorf("prices by city %+v", an.PricesByCity)
	}
	a.do("GET", "/analytics/properties?status=sold", nil, 200, &env)
	if env.Data.Total != 1 || env.Data.PricesByType[0].Prices.Median != "700000.00" {
		t.Errorf("sold: %+v", env.Data)
	}
	a.fail("GET", "/analytics/properties?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", nil, 400, gen.ErrorCodeInvalidParameter)
}

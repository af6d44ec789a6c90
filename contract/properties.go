package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// propertyOps are the operations the property checks need.
var propertyOps = []string{
	"createProperty", "getProperty", "updateProperty", "deleteProperty", "listProperties",
	"linkPropertyLead", "unlinkPropertyLead", "listPropertyLeads", "listLeadProperties", "createLead",
}

// runListing is a listing of the run: its title carries the run's tag, so
// that a search finds the run's listings only.
func (r *runner) runListing(i int, typ, city, amount, currency string) map[string]any {
	return map[string]any{
		"title": fmt.Sprintf("Listing %s %d", r.tag, i), "type": typ, "bedrooms": i % 4,
		"address": map[string]any{"line1": fmt.Sprintf("%d Contract Street", i+1), "city": city, "country": "PT"},
		"price":   map[string]any{"amount": amount, "currency": currency},
	}
}

// createProperty creates a listing and checks that it holds what was sent:
// the price with every decimal of its currency, as the spec writes it.
func (r *runner) createProperty(ctx context.Context, body map[string]any, wantAmount, scenario string) map[string]any {
	res := r.do(ctx, &call{op: "createProperty", body: body, key: r.cfg.APIKey, scenario: scenario})
	if res.err != nil {
		return nil
	}
	p, err := dataOf(res, http.StatusCreated)
	if err != nil {
		r.record(PositiveDataAcceptance, "createProperty", res, fmt.Errorf("a valid listing: %w", err))
		return nil
	}
	id, _ := p["id"].(string)
	r.track("property", id, r.cfg.APIKey)
	want := map[string]any{"title": body["title"], "type": body["type"], "status": "available",
		"price": map[string]any{"amount": wantAmount, "currency": body["price"].(map[string]any)["currency"]}}
	r.record(PositiveDataAcceptance, "createProperty", res, diffError("the created listing differs from what was sent", differences(want, p)))
	return p
}

// properties checks the listings: created, read back with exact prices,
// found by their filters, updated, linked to a lead and seen from both
// sides, kept from another account, and deleted with their links.
func (r *runner) properties(ctx context.Context) {
	if !r.need(CreatedResourceAvailable, propertyOps...) {
		return
	}
	flat := r.createProperty(ctx, r.runListing(0, "apartment", "Lisbon", "450000.5", "EUR"), "450000.50", "create a listing priced 450000.5 EUR")
	plot := r.createProperty(ctx, r.runListing(1, "land", "Porto", "90000000", "JPY"), "90000000", "create a listing priced in yen, which has no decimals")
	if flat == nil || plot == nil {
		return
	}
	id := flat["id"].(string)
	got, res := r.get(ctx, "getProperty", "id", id, r.cfg.APIKey, "fetch the created listing")
	if res.err == nil {
		err := fmt.Errorf("fetching the created listing answered %d", res.status)
		if got != nil {
			err = diffError("the listing reads back otherwise", differences(flat, got))
		}
		r.record(CreatedResourceAvailable, "getProperty", res, err)
	}
	// The run's listings by its filters: each list must hold the right ones.
	for _, f := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"type": {"land"}}, []string{plot["id"].(string)}},
		{url.Values{"currency": {"EUR"}, "min_price": {"450000.5"}, "max_price": {"450000.50"}}, []string{id}},
		{url.Values{"city": {"LISBON"}, "min_bedrooms": {"0"}}, []string{id}},
		{url.Values{"sort": {"price"}, "order": {"desc"}}, []string{plot["id"].(string), id}},
	} {
		q := f.q
		q.Set("search", r.tag)
		q.Set("limit", "100")
		items, _, res, err := r.list(ctx, "listProperties", q, r.cfg.APIKey, "list the run's listings with "+q.Encode())
		if res.err != nil {
			continue
		}
		if got := ids(items, "id"); err == nil && !slices.Equal(got, f.want) {
			err = fmt.Errorf("the list with %s holds %v, not %v", q.Encode(), got, f.want)
		}
		r.record(CreatedResourceAvailable, "listProperties", res, err)
	}
	// A price drop reads back exactly.
	patch := map[string]any{"price": map[string]any{"amount": "425000", "currency": "EUR"}, "status": "under_offer"}
	res = r.do(ctx, &call{op: "updateProperty", params: map[string]string{"id": id}, body: patch, key: r.cfg.APIKey, scenario: "drop the listing's price"})
	if res.err == nil {
		want := merged(flat, map[string]any{"price": map[string]any{"amount": "425000.00", "currency": "EUR"}, "status": "under_offer"})
		var err error
		if upd, e := dataOf(res, http.StatusOK); e != nil {
			err = e
		} else {
			err = diffError("the updated listing", differences(want, upd, "updated_at"))
			flat = upd
		}
		r.record(UpdateReadsBack, "updateProperty", res, err)
	}
	r.propertyLinks(ctx, flat)
	r.propertyIsolation(ctx, flat)
	r.deleteAndCheck(ctx, "property", "deleteProperty", "getProperty", "id", plot["id"].(string), r.cfg.APIKey)
}

// propertyLinks links a lead of the run to the listing and checks the
// link from both sides, then that deleting the lead removes it.
func (r *runner) propertyLinks(ctx context.Context, p map[string]any) {
	id := p["id"].(string)
	lead := r.createLead(ctx, map[string]any{"name": "Buyer " + r.tag, "email": r.gen.email()}, r.cfg.APIKey, "create a lead to link to the listing")
	if lead == nil {
		return
	}
	leadID := lead["id"].(string)
	link := func(rel string, want int) {
		res := r.do(ctx, &call{op: "linkPropertyLead", params: map[string]string{"id": id, "lead_id": leadID},
			body: map[string]any{"relation": rel}, key: r.cfg.APIKey, scenario: "link the lead to the listing as " + rel})
		if res.err != nil {
			return
		}
		k, err := dataOf(res, want)
		if err == nil && (k["relation"] != rel || k["lead_id"] != leadID || k["property_id"] != id) {
			err = fmt.Errorf("the link is %s, not %s of %s to %s", compact(k), rel, leadID, id)
		}
		r.record(CreatedResourceAvailable, "linkPropertyLead", res, err)
	}
	link("interested", http.StatusCreated)
	link("offer", http.StatusOK)
	r.linkedFrom(ctx, "listPropertyLeads", id, "lead", leadID, "offer")
	r.linkedFrom(ctx, "listLeadProperties", leadID, "property", id, "offer")
	if r.has("exportLead") {
		r.exportHolds(ctx, leadID, id, "offer")
	}
	res := r.do(ctx, &call{op: "unlinkPropertyLead", params: map[string]string{"id": id, "lead_id": leadID}, key: r.cfg.APIKey, scenario: "unlink the lead"})
	if res.err == nil {
		var err error
		if res.status != http.StatusNoContent {
			err = fmt.Errorf("unlinking answered %d", res.status)
		} else if again := r.do(ctx, &call{op: "unlinkPropertyLead", params: map[string]string{"id": id, "lead_id": leadID}, key: r.cfg.APIKey,
			scenario: "unlink the lead again"}); again.err == nil && again.status != http.StatusNotFound {
			err = fmt.Errorf("unlinking a link that is gone answered %d, not 404", again.status)
		}
		r.record(DeletedResourceGone, "unlinkPropertyLead", res, err)
	}
	// A deleted lead leaves no link behind.
	link("viewing", http.StatusCreated)
	r.deleteAndCheck(ctx, "lead", "deleteLead", "getLead", "id", leadID, r.cfg.APIKey)
	res = r.do(ctx, &call{op: "listPropertyLeads", params: map[string]string{"id": id}, key: r.cfg.APIKey, scenario: "list the listing's leads after the lead's deletion"})
	if res.err == nil {
		var page struct {
			Length int `json:"length"`
		}
		err := json.Unmarshal(res.body, &page)
		if err == nil && page.Length != 0 {
			err = fmt.Errorf("the deleted lead is still linked: %s", truncate(string(res.body), 200))
		}
		r.record(DeletedResourceGone, "listPropertyLeads", res, err)
	}
}

// exportHolds checks that the export of lead leadID holds the lead and its
// one link, to listing propertyID with relation rel, and no message.
func (r *runner) exportHolds(ctx context.Context, leadID, propertyID, rel string) {
	res := r.do(ctx, &call{op: "exportLead", params: map[string]string{"id": leadID}, key: r.cfg.APIKey, scenario: "export the linked lead"})
	if res.err != nil {
		return
	}
	x, err := dataOf(res, http.StatusOK)
	if err == nil {
		lead, _ := x["lead"].(map[string]any)
		props, _ := x["properties"].([]any)
		var link map[string]any
		if len(props) == 1 {
			link, _ = props[0].(map[string]any)
		}
		prop, _ := link["property"].(map[string]any)
		switch {
		case lead["id"] != leadID:
			err = fmt.Errorf("the export of %s holds the lead %v", leadID, lead["id"])
		case prop["id"] != propertyID || link["relation"] != rel:
			err = fmt.Errorf("the export of %s holds the listings %s, not one to %s as %s", leadID, truncate(compact(x), 200), propertyID, rel)
		}
	}
	r.record(CreatedResourceAvailable, "exportLead", res, err)
}

// linkedFrom lists the links of the lead or listing id with op and checks
// that they are one, to the other side's want (its field is side) with
// relation rel.
func (r *runner) linkedFrom(ctx context.Context, op, id, side, want, rel string) {
	res := r.do(ctx, &call{op: op, params: map[string]string{"id": id}, key: r.cfg.APIKey, scenario: op + " of " + id})
	if res.err != nil {
		return
	}
	var page struct {
		Data []map[string]any `json:"data"`
	}
	err := json.Unmarshal(res.body, &page)
	if err == nil {
		if len(page.Data) != 1 || page.Data[0]["relation"] != rel {
			err = fmt.Errorf("the links of %s are %s, not one to %s with relation %s", id, truncate(string(res.body), 200), want, rel)
		} else if other, _ := page.Data[0][side].(map[string]any); other["id"] != want {
			err = fmt.Errorf("the link of %s goes to %v, not %s", id, other["id"], want)
		}
	}
	r.record(CreatedResourceAvailable, op, res, err)
}

// propertyIsolation tries the listing and its links with the second
// account's key: each is 404, and the listing is unchanged.
func (r *runner) propertyIsolation(ctx context.Context, p map[string]any) {
	other := r.cfg.SecondAccountKey
	if other == "" {
		r.skip(AccountIsolation, "getProperty", "no key of a second account (--second-key)")
		return
	}
	id := p["id"].(string)
	theirs := r.createLead(ctx, map[string]any{"name": "Intruder " + r.tag, "email": r.gen.email()}, other, "create a lead in the second account")
	if theirs == nil {
		return
	}
	for _, c := range []call{
		{op: "getProperty", params: map[string]string{"id": id}},
		{op: "updateProperty", params: map[string]string{"id": id}, body: map[string]any{"title": "Intruder " + r.tag}},
		{op: "deleteProperty", params: map[string]string{"id": id}},
		{op: "listPropertyLeads", params: map[string]string{"id": id}},
		{op: "linkPropertyLead", params: map[string]string{"id": id, "lead_id": theirs["id"].(string)}, body: map[string]any{"relation": "owner"}},
	} {
		c.key, c.scenario = other, fmt.Sprintf("%s on the first account's listing %s with the second account's key", c.op, id)
		res := r.do(ctx, &c)
		if res.err != nil {
			continue
		}
		var err error
		if res.status != http.StatusNotFound {
			err = fmt.Errorf("the second account's %s on the first account's listing answered %d, not 404", c.op, res.status)
			if c.op == "deleteProperty" && res.status/100 == 2 {
				r.untrack("property", id)
			}
		}
		r.record(AccountIsolation, c.op, res, err)
	}
	got, res := r.get(ctx, "getProperty", "id", id, r.cfg.APIKey, "fetch the listing after the second account's attempts")
	if res.err == nil {
		err := fmt.Errorf("after the second account's attempts the listing answers %d", res.status)
		if got != nil {
			err = diffError("the second account's attempts changed the listing", differences(p, got))
		}
		r.record(AccountIsolation, "getProperty", res, err)
	}
}

// analytics checks that the three aggregates agree with what the other
// operations return, over a period that only the run wrote in (from the
// run's start): the run's leads by the list, the run's campaigns by their
// stats, the run's listings by the listing list.
func (r *runner) analytics(ctx context.Context) {
	if !r.need(AnalyticsAgree, "getLeadAnalytics", "getCampaignAnalytics", "getPropertyAnalytics", "listLeads", "listProperties") {
		return
	}
	from, to := r.started.Add(-time.Second), time.Now().Add(time.Minute)
	period := url.Values{"from": {from.UTC().Format(time.RFC3339Nano)}, "to": {to.UTC().Format(time.RFC3339Nano)}}

	// Leads: the series, per day in a zone of quarter hours, against the list.
	var leads []map[string]any
	for page := 1; page <= 50; page++ {
		items, more, res, err := r.list(ctx, "listLeads", url.Values{"sort": {"created_at"}, "order": {"desc"}, "limit": {"100"}, "page": {fmt.Sprint(page)}},
			r.cfg.APIKey, "list the leads created since the run started")
		if err != nil || res.err != nil {
			return
		}
		done := false
		for _, l := range items {
			if at, ok := timeField(l, "created_at"); ok && at.Before(from) {
				done = true
				break
			}
			leads = append(leads, l)
		}
		if done || more == nil || !*more {
			break
		}
	}
	q := url.Values{"tz": {"Asia/Kathmandu"}, "group_by": {"source"}}
	for k, v := range period {
		q[k] = v
	}
	res := r.do(ctx, &call{op: "getLeadAnalytics", query: q, key: r.cfg.APIKey, scenario: "count the run's leads per day"})
	if res.err == nil {
		var an struct {
			Total  int `json:"total"`
			Series []struct {
				Start, End time.Time
				Count      int            `json:"count"`
				Groups     map[string]int `json:"groups"`
			} `json:"series"`
		}
		err := data(res, &an)
		sum := 0
		for _, pt := range an.Series {
			n, bySource := 0, map[string]int{}
			for _, l := range leads {
				if at, ok := timeField(l, "created_at"); ok && !at.Before(pt.Start) && at.Before(pt.End) {
					n++
					s, _ := l["source"].(string)
					bySource[s]++
				}
			}
			for s, c := range pt.Groups {
				if c != bySource[s] && err == nil {
					err = fmt.Errorf("from %s to %s: %d leads of source %q; the list has %d", pt.Start, pt.End, c, s, bySource[s])
				}
			}
			if pt.Count != n && err == nil {
				err = fmt.Errorf("from %s to %s: %d leads; the list has %d", pt.Start, pt.End, pt.Count, n)
			}
			sum += pt.Count
		}
		if err == nil && (sum != an.Total || an.Total != len(leads)) {
			err = fmt.Errorf("the series adds up to %d, total is %d; the list has %d leads in the period", sum, an.Total, len(leads))
		}
		r.record(AnalyticsAgree, "getLeadAnalytics", res, err)
	}

	// Campaigns: each one's figures are its stats; the totals their sums.
	res = r.do(ctx, &call{op: "getCampaignAnalytics", query: period, key: r.cfg.APIKey, scenario: "the figures of the run's campaigns"})
	if res.err == nil {
		var an struct {
			Totals struct {
				Campaigns int            `json:"campaigns"`
				Figures   map[string]any `json:"figures"`
			} `json:"totals"`
			Campaigns []struct {
				ID      string         `json:"id"`
				Figures map[string]any `json:"figures"`
			} `json:"campaigns"`
			HasMore bool `json:"has_more"`
		}
		err := data(res, &an)
		sums := map[string]float64{}
		for _, c := range an.Campaigns {
			st, sres := r.campaignStats(ctx, c.ID, "read the stats of a campaign the analytics list")
			if sres == nil || sres.err != nil || st == nil {
				continue
			}
			want := map[string]int{"sent": st["recipients"], "delivered": st["sent"], "failed": st["failed"],
				"unique_opens": st["unique_opens"], "unique_clicks": st["unique_clicks"], "unsubscribes": st["unsubscribes"]}
			for k, v := range want {
				if n, _ := c.Figures[k].(float64); int(n) != v && err == nil {
					err = fmt.Errorf("campaign %s: %s is %v; its stats say %d", c.ID, k, c.Figures[k], v)
				}
				sums[k] += float64(v)
			}
		}
		if err == nil && !an.HasMore {
			if an.Totals.Campaigns != len(an.Campaigns) {
				err = fmt.Errorf("totals count %d campaigns; %d are listed", an.Totals.Campaigns, len(an.Campaigns))
			}
			for k, v := range sums {
				if an.Totals.Figures[k] != v && err == nil {
					err = fmt.Errorf("the totals' %s is %v; the campaigns' stats add up to %v", k, an.Totals.Figures[k], v)
				}
			}
		}
		r.record(AnalyticsAgree, "getCampaignAnalytics", res, err)
	}

	// Listings: counted by status and type, as the list has them.
	items, _, lres, lerr := r.list(ctx, "listProperties", url.Values{"limit": {"100"}, "search": {r.tag}}, r.cfg.APIKey, "list the run's listings")
	if lerr != nil || lres.err != nil {
		return
	}
	res = r.do(ctx, &call{op: "getPropertyAnalytics", query: period, key: r.cfg.APIKey, scenario: "count the listings created since the run started"})
	if res.err == nil {
		var an struct {
			Total    int            `json:"total"`
			ByStatus map[string]int `json:"by_status"`
			ByType   map[string]int `json:"by_type"`
		}
		err := data(res, &an)
		byStatus, byType := map[string]int{}, map[string]int{}
		for _, p := range items {
			byStatus[p["status"].(string)]++
			byType[p["type"].(string)]++
		}
		if err == nil && an.Total != len(items) {
			err = fmt.Errorf("%d listings counted; the list has %d", an.Total, len(items))
		}
		for k, v := range byStatus {
			if an.ByStatus[k] != v && err == nil {
				err = fmt.Errorf("%d listings %s; the list has %d", an.ByStatus[k], k, v)
			}
		}
		for k, v := range byType {
			if an.ByType[k] != v && err == nil {
				err = fmt.Errorf("%d listings of type %s; the list has %d", an.ByType[k], k, v)
			}
		}
		r.record(AnalyticsAgree, "getPropertyAnalytics", res, err)
	}
}

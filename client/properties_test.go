package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/servertest"
)

func TestIntegrationProperties(t *testing.T) {
	srv := servertest.New(t, servertest.WithoutRateLimit())
	c := newClient(t, srv.URL, srv.Key)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		p, err := c.Properties.Create(ctx, gen.PropertyCreate{
			Title: fmt.Sprint("Flat ", i), Type: gen.PropertyTypeApartment,
			Address: gen.Address{Line1: "1 Rua", City: "Lisbon", Country: "PT"},
			Price:   gen.Money{Amount: fmt.Sprintf("%d00000.5", i+1), Currency: "EUR"}, Bedrooms: ptr(i % 4),
		})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if p.StatusCode != 201 || p.Price.Amount != fmt.Sprintf("%d00000.50", i+1) {
			t.Fatalf("Create = %+v", p)
		}
		ids = append(ids, p.ID)
	}
	// The iterator walks every page, in price order.
	var seen []string
	for p, err := range c.Properties.All(ctx, &gen.ListPropertiesParams{Limit: ptr(3), Sort: ptr(gen.PropertySortFieldPrice), Order: ptr(gen.ListPropertiesParamsOrderAsc)}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, p.ID)
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Errorf("All = %v; want %v", seen, ids)
	}
	lead, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane", Email: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := c.Properties.Link(ctx, ids[0], lead.ID, gen.PropertyRelationInterested)
	if err != nil || !link.Created || link.StatusCode != 201 {
		t.Fatalf("Link = %+v, %v", link, err)
	}
	again, err := c.Properties.Link(ctx, ids[0], lead.ID, gen.PropertyRelationOffer)
	if err != nil || again.Created || again.Relation != gen.PropertyRelationOffer {
		t.Fatalf("Link again = %+v, %v", again, err)
	}
	leads, err := c.Properties.Leads(ctx, ids[0], nil)
	if err != nil || len(leads.Leads) != 1 || leads.Leads[0].Lead.ID != lead.ID {
		t.Fatalf("Leads = %+v, %v", leads, err)
	}
	props, err := c.Properties.OfLead(ctx, lead.ID, nil)
	if err != nil || len(props.Properties) != 1 || props.Properties[0].Property.ID != ids[0] {
		t.Fatalf("OfLead = %+v, %v", props, err)
	}
	if _, err := c.Properties.Unlink(ctx, ids[0], lead.ID); err != nil {
		t.Fatal(err)
	}
	upd, err := c.Properties.Update(ctx, ids[1], gen.PropertyUpdate{Status: ptr(gen.PropertyStatusSold)})
	if err != nil || upd.Status != gen.PropertyStatusSold {
		t.Fatalf("Update = %+v, %v", upd, err)
	}
	if _, err := c.Properties.Delete(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Properties.Get(ctx, ids[2]); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Get after Delete: %v; want ErrNotFound", err)
	}
	// A price the currency cannot hold is the caller's error, not a retry.
	_, err = c.Properties.Create(ctx, gen.PropertyCreate{Title: "X", Type: gen.PropertyTypeLand,
		Address: gen.Address{Line1: "1", City: "Faro", Country: "PT"}, Price: gen.Money{Amount: "1.5", Currency: "JPY"}})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Code != axiom.CodeInvalidParameter {
		t.Errorf("Create with 1.5 JPY: %v; want invalid_parameter", err)
	}

	tpl, err := c.Templates.Create(ctx, gen.TemplateCreate{Name: "Drop", Subject: "New price", Content: "<p>New price</p>"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "Drop", Template: tpl.Slug, Audience: &gen.CampaignAudience{Properties: &[]string{"prp_nope"}}})
	if !errors.Is(err, client.ErrPropertyNotFound) {
		t.Errorf("a campaign to an unknown listing: %v; want ErrPropertyNotFound", err)
	}

	st, err := c.Analytics.Properties(ctx, nil)
	if err != nil || st.Total != 6 || st.ByStatus["sold"] != 1 || st.PricesByType[0].Prices.Median != "400000.50" {
		t.Errorf("Analytics.Properties = %+v, %v", st, err)
	}
	from := time.Now().Add(-time.Hour)
	la, err := c.Analytics.Leads(ctx, gen.GetLeadAnalyticsParams{From: from, To: from.Add(2 * time.Hour), Interval: ptr(gen.AnalyticsIntervalDay), Tz: ptr("Europe/Lisbon")})
	if err != nil || la.Total != 1 || la.Tz != "Europe/Lisbon" {
		t.Errorf("Analytics.Leads = %+v, %v", la, err)
	}
	ca, err := c.Analytics.Campaigns(ctx, gen.GetCampaignAnalyticsParams{From: from, To: from.Add(2 * time.Hour)})
	if err != nil || ca.Totals.Campaigns != 0 || ca.Campaigns == nil {
		t.Errorf("Analytics.Campaigns = %+v, %v", ca, err)
	}
}

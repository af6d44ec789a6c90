package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

var propertyTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"PropertyCRUD", testPropertyCRUD},
	{"PropertyIsolation", testPropertyIsolation},
	{"PropertyFilters", testPropertyFilters},
	{"PropertyLinks", testPropertyLinks},
}

// fullProperty is a listing with every field set.
func fullProperty(accountID string) axiom.Property {
	return axiom.Property{
		AccountID: accountID, Title: "Two-bedroom flat with harbour view", Description: "Bright, renovated in 2023.",
		Type: "apartment", Status: "available",
		Address: axiom.Address{Line1: "12 Rua das Flores", Line2: "3rd floor", City: "Lisbon", Region: "Lisboa",
			PostalCode: "1200-195", Country: "PT"},
		Coordinates: &axiom.Coordinates{Latitude: 38.7139, Longitude: -9.1394},
		Price:       axiom.Money{Minor: 45_000_050, Currency: "EUR"},
		Bedrooms:    2, Bathrooms: 1.5, FloorArea: &axiom.FloorArea{Value: 85.5, Unit: "sqm"},
		Tags: []string{"sea-view"}, CustomFields: map[string]string{"energy": "B"},
	}
}

// createProperty stores p as a new listing of p.AccountID, made now.
func createProperty(t *testing.T, s Store, p axiom.Property) axiom.Property {
	t.Helper()
	p = axiom.NewProperty(p.AccountID, p, time.Now())
	if err := s.CreateProperty(t.Context(), p); err != nil {
		t.Fatalf("CreateProperty(%s): %v", p.Title, err)
	}
	return p
}

func checkProperty(t *testing.T, what string, got, want axiom.Property) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: times %v %v; want %v %v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func propertyIDs(ps []axiom.Property) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testPropertyCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	want := createProperty(t, s, fullProperty(a.ID))
	got, err := s.GetProperty(ctx, a.ID, want.ID)
	if err != nil {
		t.Fatalf("GetProperty: %v", err)
	}
	checkProperty(t, "GetProperty", got, want)
	checkStoreTime(t, "property CreatedAt", got.CreatedAt)

	// Without coordinates nor floor area, with no tags: nil and empty as made.
	bare := createProperty(t, s, axiom.Property{AccountID: a.ID, Title: "Plot", Type: "land",
		Address: axiom.Address{Line1: "Lot 7", City: "Évora", Country: "PT"}, Price: axiom.Money{Minor: 90_000, Currency: "JPY"}})
	if got, err := s.GetProperty(ctx, a.ID, bare.ID); err != nil {
		t.Fatal(err)
	} else {
		checkProperty(t, "GetProperty(bare)", got, bare)
	}

	at := want.CreatedAt.Add(time.Minute)
	drop := axiom.Money{Minor: 42_500_000, Currency: "EUR"}
	patch := axiom.PropertyPatch{Price: &drop, Status: new("under_offer"), Coordinates: &axiom.Coordinates{Latitude: 1, Longitude: 2},
		Tags: &[]string{}, Address: &axiom.Address{Line1: "1 Avenida", City: "Porto", Country: "PT"}}
	updated, err := s.UpdateProperty(ctx, a.ID, want.ID, patch, at)
	if err != nil {
		t.Fatalf("UpdateProperty: %v", err)
	}
	want = patch.Apply(want, at)
	checkProperty(t, "UpdateProperty", updated, want)
	if got, err := s.GetProperty(ctx, a.ID, want.ID); err != nil {
		t.Fatal(err)
	} else {
		checkProperty(t, "GetProperty after update", got, want)
	}
	if err := s.DeleteProperty(ctx, a.ID, want.ID); err != nil {
		t.Fatalf("DeleteProperty: %v", err)
	}
	_, err = s.GetProperty(ctx, a.ID, want.ID)
	wantError(t, "GetProperty after delete", err, axiom.PropertyNotFound(want.ID))
	_, err = s.UpdateProperty(ctx, a.ID, want.ID, patch, at)
	wantError(t, "UpdateProperty after delete", err, axiom.PropertyNotFound(want.ID))
	wantError(t, "DeleteProperty twice", s.DeleteProperty(ctx, a.ID, want.ID), axiom.PropertyNotFound(want.ID))
	orphan := axiom.NewProperty("acc_0000000000000000000000", fullProperty(""), time.Now())
	if err := s.CreateProperty(ctx, orphan); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CreateProperty for an unknown account: %v; want ErrNotFound", err)
	}
}

// testPropertyIsolation tries every operation on listings and links with
// another account's ids: each is not found, and nothing changes.
func testPropertyIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	p := createProperty(t, s, fullProperty(a.ID))
	l := createLead(t, s, fullLead(a.ID))
	theirs := createLead(t, s, axiom.Lead{AccountID: b.ID, Name: "Mallory", Email: "m@example.com"})
	if _, _, err := s.LinkLead(ctx, a.ID, p.ID, l.ID, "owner", now()); err != nil {
		t.Fatal(err)
	}
	at := now()
	_, err := s.GetProperty(ctx, b.ID, p.ID)
	wantError(t, "GetProperty from another account", err, axiom.PropertyNotFound(p.ID))
	_, err = s.UpdateProperty(ctx, b.ID, p.ID, axiom.PropertyPatch{Title: new("Mine")}, at)
	wantError(t, "UpdateProperty from another account", err, axiom.PropertyNotFound(p.ID))
	wantError(t, "DeleteProperty from another account", s.DeleteProperty(ctx, b.ID, p.ID), axiom.PropertyNotFound(p.ID))
	_, _, err = s.LinkLead(ctx, b.ID, p.ID, theirs.ID, "offer", at)
	wantError(t, "LinkLead to another account's property", err, axiom.PropertyNotFound(p.ID))
	other := createProperty(t, s, axiom.Property{AccountID: b.ID, Title: "Theirs", Type: "house",
		Address: axiom.Address{Line1: "1", City: "X", Country: "FR"}, Price: axiom.Money{Minor: 1, Currency: "EUR"}})
	_, _, err = s.LinkLead(ctx, b.ID, other.ID, l.ID, "offer", at)
	wantError(t, "LinkLead of another account's lead", err, axiom.LeadNotFound(l.ID))
	wantError(t, "UnlinkLead from another account", s.UnlinkLead(ctx, b.ID, p.ID, l.ID), axiom.LinkNotFound(p.ID, l.ID))
	_, err = s.PropertyLeads(ctx, b.ID, p.ID, "", axiom.Query{Page: 1, Limit: 10})
	wantError(t, "PropertyLeads from another account", err, axiom.PropertyNotFound(p.ID))
	_, err = s.LeadProperties(ctx, b.ID, l.ID, "", axiom.Query{Page: 1, Limit: 10})
	wantError(t, "LeadProperties from another account", err, axiom.LeadNotFound(l.ID))
	if links, err := s.PropertyLinks(ctx, b.ID, []string{p.ID}); err != nil || len(links) != 0 {
		t.Errorf("PropertyLinks from another account = %v, %v; want none", links, err)
	}
	if page, err := s.ListProperties(ctx, b.ID, axiom.Query{Page: 1, Limit: 10}, axiom.PropertyFilter{}); err != nil ||
		!slices.Equal(propertyIDs(page.Items), []string{other.ID}) {
		t.Errorf("ListProperties of the other account = %v, %v; want only its own", propertyIDs(page.Items), err)
	}
	if st, err := s.PropertyStats(ctx, b.ID, axiom.PropertyScope{}); err != nil || st.Total != 1 {
		t.Errorf("PropertyStats of the other account = %+v, %v; want its one listing", st, err)
	}
	got, err := s.GetProperty(ctx, a.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkProperty(t, "property after another account's attempts", got, p)
	if page, err := s.PropertyLeads(ctx, a.ID, p.ID, "", axiom.Query{Page: 1, Limit: 10}); err != nil || len(page.Items) != 1 ||
		page.Items[0].Link.Relation != "owner" {
		t.Errorf("links after another account's attempts: %+v, %v", page.Items, err)
	}
}

func testPropertyFilters(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	mk := func(title, typ, status, city string, bedrooms int, minor int64, cur string) axiom.Property {
		time.Sleep(2 * time.Millisecond) // distinct creation times
		return createProperty(t, s, axiom.Property{AccountID: a.ID, Title: title, Type: typ, Status: status, Bedrooms: bedrooms,
			Address: axiom.Address{Line1: "1 Main Street", City: city, Country: "PT"}, Price: axiom.Money{Minor: minor, Currency: cur},
			Description: "Near the Harbour"})
	}
	flat := mk("Sunny flat", "apartment", "available", "Lisbon", 2, 30_000_000, "EUR")
	house := mk("Family house", "house", "available", "lisbon", 4, 75_000_000, "EUR")
	sold := mk("Old house", "house", "sold", "Porto", 3, 50_000_000, "EUR")
	yen := mk("Tokyo flat", "apartment", "available", "Tokyo", 1, 40_000_000, "JPY") // ¥40,000,000
	office := mk("Office loft", "office", "off_market", "Lisbon", 0, 30_000_000, "EUR")
	all := []axiom.Property{flat, house, sold, yen, office}
	price := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name string
		q    axiom.Query
		f    axiom.PropertyFilter
		want []axiom.Property
	}{
		{"newest first", axiom.Query{Sort: "created_at", Desc: true}, axiom.PropertyFilter{}, []axiom.Property{office, yen, sold, house, flat}},
		{"status", axiom.Query{Sort: "created_at"}, axiom.PropertyFilter{Status: "available"}, []axiom.Property{flat, house, yen}},
		{"type", axiom.Query{Sort: "created_at"}, axiom.PropertyFilter{Type: "house"}, []axiom.Property{house, sold}},
		{"city, any case", axiom.Query{Sort: "created_at"}, axiom.PropertyFilter{City: "LISBON"}, []axiom.Property{flat, house, office}},
		{"min bedrooms", axiom.Query{Sort: "created_at"}, axiom.PropertyFilter{MinBedrooms: new(3)}, []axiom.Property{house, sold}},
		// 400,000.00 EUR to 700,000.00: amounts compare as numbers.
		{"price range", axiom.Query{Sort: "price"}, axiom.PropertyFilter{MinPrice: price(400_000_0000), MaxPrice: price(500_000_0000)}, []axiom.Property{sold}},
		{"price range and currency", axiom.Query{Sort: "price"}, axiom.PropertyFilter{MinPrice: price(0), Currency: "JPY"}, []axiom.Property{yen}},
		// By value: 300,000 EUR (twice, ties by id), 500,000 EUR, 750,000 EUR, 40,000,000 JPY.
		{"price ascending", axiom.Query{Sort: "price"}, axiom.PropertyFilter{}, []axiom.Property{flat, office, sold, house, yen}},
		{"price descending", axiom.Query{Sort: "price", Desc: true}, axiom.PropertyFilter{}, []axiom.Property{yen, house, sold, office, flat}},
		{"search title", axiom.Query{Sort: "created_at", Search: "HOUSE"}, axiom.PropertyFilter{}, []axiom.Property{house, sold}},
		{"search prefixes of two fields", axiom.Query{Sort: "created_at", Search: "fla lis"}, axiom.PropertyFilter{}, []axiom.Property{flat}},
		{"search description", axiom.Query{Sort: "created_at", Search: "harb"}, axiom.PropertyFilter{}, all},
		{"search and filter", axiom.Query{Sort: "created_at", Search: "flat"}, axiom.PropertyFilter{Currency: "EUR"}, []axiom.Property{flat}},
		{"search inside a word finds nothing", axiom.Query{Sort: "created_at", Search: "ouse"}, axiom.PropertyFilter{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Page, q.Limit = 1, 10
			page, err := s.ListProperties(ctx, a.ID, q, tc.f)
			if err != nil {
				t.Fatalf("ListProperties: %v", err)
			}
			wantIDs := propertyIDs(tc.want)
			if tc.name == "price ascending" || tc.name == "price descending" {
				// flat and office tie at 300,000 EUR: by id, in the same direction.
				lo, hi := flat.ID, office.ID
				if lo > hi {
					lo, hi = hi, lo
				}
				if q.Desc {
					wantIDs[3], wantIDs[4] = hi, lo
				} else {
					wantIDs[0], wantIDs[1] = lo, hi
				}
			}
			if got := propertyIDs(page.Items); !slices.Equal(got, wantIDs) || page.HasMore {
				t.Errorf("ListProperties = %v (more %v); want %v", got, page.HasMore, wantIDs)
			}
		})
	}
	// Paging: two at a time, newest first.
	var seen []string
	for pg := 1; ; pg++ {
		page, err := s.ListProperties(ctx, a.ID, axiom.Query{Page: pg, Limit: 2, Sort: "created_at", Desc: true}, axiom.PropertyFilter{})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, propertyIDs(page.Items)...)
		if !page.HasMore {
			break
		}
	}
	if want := propertyIDs([]axiom.Property{office, yen, sold, house, flat}); !slices.Equal(seen, want) {
		t.Errorf("paged = %v; want %v", seen, want)
	}
	_, err := s.ListProperties(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Sort: "name"}, axiom.PropertyFilter{})
	wantCode(t, "ListProperties sorted by name", err, axiom.CodeInvalidParameter)
}

func testPropertyLinks(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	p := createProperty(t, s, fullProperty(a.ID))
	q := createProperty(t, s, fullProperty(a.ID))
	var leads []axiom.Lead
	for i := range 3 {
		leads = append(leads, createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint("L", i), Email: fmt.Sprintf("l%d@example.com", i)}))
	}
	at := now()
	link := func(prop axiom.Property, l axiom.Lead, rel string, wantCreated bool) axiom.PropertyLink {
		t.Helper()
		at = at.Add(time.Second)
		k, created, err := s.LinkLead(ctx, a.ID, prop.ID, l.ID, rel, at)
		if err != nil || created != wantCreated || k.Relation != rel || k.PropertyID != prop.ID || k.LeadID != l.ID {
			t.Fatalf("LinkLead(%s, %s, %s) = %+v, created %v, %v; want created %v", prop.ID, l.Name, rel, k, created, err, wantCreated)
		}
		return k
	}
	first := link(p, leads[0], "interested", true)
	link(p, leads[1], "viewing", true)
	link(p, leads[2], "interested", true)
	link(q, leads[0], "owner", true)
	same := link(p, leads[0], "interested", false)
	if !same.UpdatedAt.Equal(first.UpdatedAt) || !same.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("linking again with the same relation changed the link: %+v; was %+v", same, first)
	}
	changed := link(p, leads[0], "offer", false)
	if !changed.CreatedAt.Equal(first.CreatedAt) || !changed.UpdatedAt.Equal(at) {
		t.Errorf("changed link %+v: want created %v, updated %v", changed, first.CreatedAt, at)
	}

	leadsOf := func(prop axiom.Property, rel string) []string {
		t.Helper()
		page, err := s.PropertyLeads(ctx, a.ID, prop.ID, rel, axiom.Query{Page: 1, Limit: 10})
		if err != nil {
			t.Fatalf("PropertyLeads: %v", err)
		}
		var out []string
		for _, ll := range page.Items {
			checkLead(t, "linked lead", ll.Item, leads[slices.IndexFunc(leads, func(l axiom.Lead) bool { return l.ID == ll.Item.ID })])
			out = append(out, ll.Item.Name+":"+ll.Link.Relation)
		}
		return out
	}
	propsOf := func(l axiom.Lead) []string {
		t.Helper()
		page, err := s.LeadProperties(ctx, a.ID, l.ID, "", axiom.Query{Page: 1, Limit: 10})
		if err != nil {
			t.Fatalf("LeadProperties: %v", err)
		}
		var out []string
		for _, lp := range page.Items {
			out = append(out, lp.Item.ID+":"+lp.Link.Relation)
		}
		return out
	}
	// Most recently linked first.
	if got, want := leadsOf(p, ""), []string{"L2:interested", "L1:viewing", "L0:offer"}; !slices.Equal(got, want) {
		t.Errorf("PropertyLeads = %v; want %v", got, want)
	}
	if got, want := leadsOf(p, "interested"), []string{"L2:interested"}; !slices.Equal(got, want) {
		t.Errorf("PropertyLeads(interested) = %v; want %v", got, want)
	}
	if got, want := propsOf(leads[0]), []string{q.ID + ":owner", p.ID + ":offer"}; !slices.Equal(got, want) {
		t.Errorf("LeadProperties = %v; want %v", got, want)
	}
	if links, err := s.PropertyLinks(ctx, a.ID, []string{p.ID}); err != nil || len(links) != 3 {
		t.Errorf("PropertyLinks = %d links, %v; want 3", len(links), err)
	}
	_, _, err := s.LinkLead(ctx, a.ID, p.ID, "cnt_nope", "owner", at)
	wantError(t, "LinkLead(unknown lead)", err, axiom.LeadNotFound("cnt_nope"))
	_, _, err = s.LinkLead(ctx, a.ID, "prp_nope", leads[0].ID, "owner", at)
	wantError(t, "LinkLead(unknown property)", err, axiom.PropertyNotFound("prp_nope"))

	// Unlinking, then deleting either side, leaves nothing dangling.
	if err := s.UnlinkLead(ctx, a.ID, p.ID, leads[1].ID); err != nil {
		t.Fatalf("UnlinkLead: %v", err)
	}
	wantError(t, "UnlinkLead twice", s.UnlinkLead(ctx, a.ID, p.ID, leads[1].ID), axiom.LinkNotFound(p.ID, leads[1].ID))
	if err := s.DeleteLead(ctx, a.ID, leads[2].ID); err != nil {
		t.Fatal(err)
	}
	if got, want := leadsOf(p, ""), []string{"L0:offer"}; !slices.Equal(got, want) {
		t.Errorf("PropertyLeads after deleting a lead = %v; want %v", got, want)
	}
	if err := s.DeleteProperty(ctx, a.ID, q.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := propsOf(leads[0]), []string{p.ID + ":offer"}; !slices.Equal(got, want) {
		t.Errorf("LeadProperties after deleting a property = %v; want %v", got, want)
	}
	if links, err := s.PropertyLinks(ctx, a.ID, []string{q.ID}); err != nil || len(links) != 0 {
		t.Errorf("links of a deleted property = %v, %v", links, err)
	}
	// A lead's email is free again, and a new lead of it has no links.
	again := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "L2 again", Email: leads[2].Email})
	if got := propsOf(again); len(got) != 0 {
		t.Errorf("a new lead has links: %v", got)
	}
	_, err = s.PropertyLeads(ctx, a.ID, q.ID, "", axiom.Query{Page: 1, Limit: 10})
	wantError(t, "PropertyLeads of a deleted property", err, axiom.PropertyNotFound(q.ID))
}

package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

var datasetTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"SeedExportsAsSeeded", testSeedExportsAsSeeded},
	{"SeedTwiceIsSeedOnce", testSeedTwiceIsSeedOnce},
	{"SeedReplacesAndKeepsTheRest", testSeedReplacesAndKeepsTheRest},
	{"SeedIsAllOrNothing", testSeedIsAllOrNothing},
	{"ResetLeavesOnlyTheDataset", testResetLeavesOnlyTheDataset},
}

// SampleDataset is a dataset of every kind of record: two accounts, keys
// live, read-only and revoked, leads, templates and campaigns in every
// status a dataset may hold. Each call returns new ids and secrets; the
// secrets are returned by key id.
func SampleDataset() (axiom.Dataset, map[string]string) {
	base := axiom.StoreTime(time.Date(2025, 1, 15, 10, 30, 45, 0, time.UTC))
	at := func(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }
	ptr := func(t time.Time) *time.Time { return &t }
	secrets := map[string]string{}
	var d axiom.Dataset
	for i, plan := range []axiom.Plan{axiom.PlanProfessional, axiom.PlanStarter} {
		acc := axiom.Account{ID: axiom.NewID(axiom.PrefixAccount, at(i)), Plan: plan, CreatedAt: at(i)}
		a := axiom.AccountData{Account: acc}
		for j, name := range []string{"ci", "read-only", "revoked"} {
			k, secret := axiom.NewKey(acc.ID, name, name == "read-only", at(10+j))
			if name == "revoked" {
				k.RevokedAt = ptr(at(20))
			}
			secrets[k.ID] = secret
			a.Keys = append(a.Keys, k)
		}
		for j, name := range []string{"John Smith", "Jane Doe", "Zoë Unsub"} {
			l := axiom.Lead{
				ID: axiom.NewID(axiom.PrefixLead, at(30+j)), AccountID: acc.ID, Name: name,
				Email: fmt.Sprintf("lead%d@example.com", j), Phone: "+11234567890", Company: "Acme Real Estate",
				Type: "client", Status: "active", Source: "fixture",
				Tags: []string{"buyer", "residential"}, Notes: []string{"Called on Monday"},
				CustomFields: map[string]string{"budget": "$500k-$750k"},
				CreatedAt:    at(30 + j), UpdatedAt: at(40 + j),
			}
			if j == 2 {
				l.Status, l.Tags, l.Notes, l.CustomFields = axiom.LeadStatusUnsubscribed, []string{}, []string{}, map[string]string{}
			}
			a.Leads = append(a.Leads, l)
		}
		for j, name := range []string{"Welcome", "Spring offer"} {
			a.Templates = append(a.Templates, axiom.Template{
				AccountID: acc.ID, Slug: axiom.NewSlug(name), Name: name, Subject: "Hello {{first_name}}",
				Content: "<p>Hi {{name}}</p>", CreatedAt: at(50 + j), UpdatedAt: at(50 + j),
			})
		}
		for j, title := range []string{"Flat by the river", "Plot of land"} {
			p := axiom.Property{
				ID: axiom.NewID(axiom.PrefixProperty, at(55+j)), AccountID: acc.ID, Title: title, Type: "apartment", Status: "available",
				Address: axiom.Address{Line1: "12 Rua das Flores", City: "Lisbon", PostalCode: "1200-195", Country: "PT"},
				Price:   axiom.Money{Minor: 45000000, Currency: "EUR"}, Bedrooms: 2, Bathrooms: 1.5,
				Coordinates: &axiom.Coordinates{Latitude: 38.7099, Longitude: -9.1423}, FloorArea: &axiom.FloorArea{Value: 84.5, Unit: "sqm"},
				Tags: []string{"river"}, CustomFields: map[string]string{"floor": "3"}, CreatedAt: at(55 + j), UpdatedAt: at(56 + j),
			}
			if j == 1 {
				p.Type, p.Status, p.Price, p.Bedrooms, p.Bathrooms = "land", "sold", axiom.Money{Minor: 9000000, Currency: "JPY"}, 0, 0
				p.Description, p.Coordinates, p.FloorArea = "Flat and sunny.", nil, nil
				p.Tags, p.CustomFields = []string{}, map[string]string{}
			}
			a.Properties = append(a.Properties, p)
		}
		for j, rel := range []string{"interested", "owner"} {
			a.Links = append(a.Links, axiom.PropertyLink{AccountID: acc.ID, PropertyID: a.Properties[j].ID, LeadID: a.Leads[j].ID,
				Relation: rel, CreatedAt: at(58 + j), UpdatedAt: at(59 + j)})
		}
		campaigns := []axiom.Campaign{
			{Status: axiom.CampaignDraft, Audience: axiom.Audience{Tags: []string{"buyer"}}},
			{Status: axiom.CampaignDraft, Audience: axiom.Audience{Properties: []string{a.Properties[0].ID}, Relations: []string{"interested"}}},
			{Status: axiom.CampaignScheduled, ScheduledAt: ptr(at(60 * 24 * 365 * 10))},
			{Status: axiom.CampaignSent, StartedAt: ptr(at(70)), CompletedAt: ptr(at(71))},
			{Status: axiom.CampaignCancelled, CompletedAt: ptr(at(72))},
		}
		for j, c := range campaigns {
			c.ID, c.AccountID, c.Name, c.Template = axiom.NewID(axiom.PrefixCampaign, at(60+j)), acc.ID, "Campaign "+strconv.Itoa(j), a.Templates[0].Slug
			c.Audience = c.Audience.Normalized()
			c.CreatedAt, c.UpdatedAt = at(60+j), at(60+j)
			a.Campaigns = append(a.Campaigns, c)
		}
		d.Accounts = append(d.Accounts, a)
	}
	return d, secrets
}

// DatasetDiff describes how got differs from want, record by record, or
// returns "" when they are the same.
func DatasetDiff(got, want axiom.Dataset) string {
	if len(got.Accounts) != len(want.Accounts) {
		return fmt.Sprintf("%d accounts, want %d", len(got.Accounts), len(want.Accounts))
	}
	for i := range want.Accounts {
		g, w := got.Accounts[i], want.Accounts[i]
		path := fmt.Sprintf("accounts[%d]", i)
		for _, d := range []string{
			diff(path, "account", []axiom.Account{g.Account}, []axiom.Account{w.Account}),
			diff(path, "keys", g.Keys, w.Keys),
			diff(path, "leads", g.Leads, w.Leads),
			diff(path, "templates", g.Templates, w.Templates),
			diff(path, "properties", g.Properties, w.Properties),
			diff(path, "links", g.Links, w.Links),
			diff(path, "campaigns", g.Campaigns, w.Campaigns),
		} {
			if d != "" {
				return d
			}
		}
	}
	return ""
}

func diff[T any](path, kind string, got, want []T) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%s: %d %s, want %d", path, len(got), kind, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("%s.%s[%d]:\n got %+v\nwant %+v", path, kind, i, got[i], want[i])
		}
	}
	return ""
}

func export(t *testing.T, s Store) axiom.Dataset {
	t.Helper()
	d, err := s.Export(t.Context())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return d
}

func seed(t *testing.T, s Store, d axiom.Dataset) {
	t.Helper()
	if errs := d.Check(); len(errs) > 0 {
		t.Fatalf("the dataset does not pass Check: %v", errs)
	}
	if err := s.Seed(t.Context(), d); err != nil {
		t.Fatalf("Seed: %v", err)
	}
}

func testSeedExportsAsSeeded(t *testing.T, s Store) {
	d, secrets := SampleDataset()
	seed(t, s, d)
	if diff := DatasetDiff(export(t, s), d); diff != "" {
		t.Errorf("Export after Seed: %s", diff)
	}
	// Keys work by the secrets they were seeded with, and only by those.
	for id, secret := range secrets {
		k, _, err := s.KeyByHash(t.Context(), axiom.HashSecret(secret))
		if err != nil || k.ID != id {
			t.Errorf("KeyByHash(secret of %s) = %s, %v", id, k.ID, err)
		}
	}
	// Seeded records are the API's like any other: listed, searched, sent.
	acc := d.Accounts[0]
	p, err := s.ListLeads(t.Context(), acc.Account.ID, axiom.Query{Page: 1, Limit: 10, Sort: "name", Search: "jane"})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != acc.Leads[1].ID {
		t.Errorf("search of a seeded lead = %v, %v; want %s", ids(p.Items), err, acc.Leads[1].ID)
	}
	if _, err := s.ChangeCampaign(t.Context(), acc.Account.ID, acc.Campaigns[0].ID, axiom.OpCancel,
		axiom.CampaignChange{UpdatedAt: now(), CompletedAt: new(now())}); err != nil {
		t.Errorf("cancel a seeded draft: %v", err)
	}
}

func testSeedTwiceIsSeedOnce(t *testing.T, s Store) {
	d, _ := SampleDataset()
	seed(t, s, d)
	seed(t, s, d)
	if diff := DatasetDiff(export(t, s), d); diff != "" {
		t.Errorf("Export after seeding twice: %s", diff)
	}
}

func testSeedReplacesAndKeepsTheRest(t *testing.T, s Store) {
	ctx := t.Context()
	d, _ := SampleDataset()
	seed(t, s, d)
	acc := d.Accounts[0].Account
	// Records made through the API meanwhile: one the next seed replaces
	// (the email of a seeded lead deleted since, under another id), one it
	// leaves alone, and a seeded one changed.
	if err := s.DeleteLead(ctx, acc.ID, d.Accounts[0].Leads[0].ID); err != nil {
		t.Fatal(err)
	}
	clash := createLead(t, s, axiom.Lead{AccountID: acc.ID, Name: "Clash", Email: "LEAD0@example.com"})
	other := createLead(t, s, axiom.Lead{AccountID: acc.ID, Name: "Other", Email: "other@example.com"})
	if _, err := s.UpdateLead(ctx, acc.ID, d.Accounts[0].Leads[1].ID, axiom.LeadPatch{Name: new("Changed")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	seed(t, s, d)
	if _, err := s.GetLead(ctx, acc.ID, clash.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("the lead whose email the seed has: %v; want it replaced", err)
	}
	if got, err := s.GetLead(ctx, acc.ID, other.ID); err != nil {
		t.Errorf("a lead the seed does not name: %v", err)
	} else {
		checkLead(t, "a lead the seed does not name", got, other)
	}
	for _, l := range d.Accounts[0].Leads[:2] {
		got, err := s.GetLead(ctx, acc.ID, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkLead(t, "a seeded lead deleted or changed since", got, l)
	}
}

func testSeedIsAllOrNothing(t *testing.T, s Store) {
	d, _ := SampleDataset()
	// The database refuses the last record (Check would too): a key of an
	// account that exists nowhere.
	bad := d.Accounts[1].Keys[0]
	bad.AccountID = axiom.NewID(axiom.PrefixAccount, time.Now())
	d.Accounts[1].Keys = append(d.Accounts[1].Keys, bad)
	bad.ID = axiom.NewID(axiom.PrefixKey, time.Now())
	err := s.Seed(t.Context(), d)
	de, ok := errors.AsType[*axiom.DatasetError](err)
	if !ok || de.Path != "accounts[1].keys[3]" {
		t.Fatalf("Seed = %v; want an *axiom.DatasetError at accounts[1].keys[3]", err)
	}
	if got := export(t, s); len(got.Accounts) != 0 {
		t.Errorf("after a failed seed the database holds %d accounts; want none", len(got.Accounts))
	}
}

func testResetLeavesOnlyTheDataset(t *testing.T, s Store) {
	ctx := t.Context()
	d, _ := SampleDataset()
	seed(t, s, d)
	acc := d.Accounts[0].Account
	// What tests do between resets: another account and key, leads, a
	// campaign sent with messages, an Idempotency-Key, a seeded lead deleted.
	stranger := newAccount(t, s)
	k, secret := axiom.NewKey(stranger.ID, "k", false, time.Now())
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	added := createLead(t, s, axiom.Lead{AccountID: acc.ID, Name: "Added", Email: "added@example.com"})
	if err := s.DeleteLead(ctx, acc.ID, d.Accounts[0].Leads[0].ID); err != nil {
		t.Fatal(err)
	}
	c := sendingCampaign(t, s, 3)
	if _, _, err := s.ClaimIdempotencyKey(ctx, axiom.IdempotencyRecord{AccountID: acc.ID, Key: "k1", RequestHash: []byte{1},
		CreatedAt: now(), Token: "t"}, time.Hour, time.Hour); err != nil {
		t.Fatal(err)
	}
	sup, err := axiom.NewSuppression(acc.ID, "suppressed@example.com", axiom.SuppressManual, "", "", now())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddSuppression(ctx, sup); err != nil {
		t.Fatal(err)
	}
	listing := createProperty(t, s, fullProperty(acc.ID))
	if _, _, err := s.LinkLead(ctx, acc.ID, listing.ID, d.Accounts[0].Leads[1].ID, "interested", now()); err != nil {
		t.Fatal(err)
	}

	if err := s.Reset(ctx, d); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if diff := DatasetDiff(export(t, s), d); diff != "" {
		t.Errorf("Export after Reset: %s", diff)
	}
	if _, _, err := s.KeyByHash(ctx, axiom.HashSecret(secret)); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a key made after the seed: %v; want it gone", err)
	}
	if _, err := s.GetLead(ctx, acc.ID, added.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a lead made after the seed: %v; want it gone", err)
	}
	if ms, err := s.ClaimMessages(ctx, "wrk_reset", time.Now().Add(time.Hour), time.Minute, 10); err != nil || len(ms) != 0 {
		t.Errorf("messages after Reset: %d, %v; want none", len(ms), err)
	}
	if _, err := s.GetCampaign(ctx, c.AccountID, c.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a campaign made after the seed: %v; want it gone", err)
	}
	if _, err := s.GetIdempotencyKey(ctx, acc.ID, "k1"); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("an Idempotency-Key claimed after the seed: %v; want it gone", err)
	}
	if _, err := s.GetSuppression(ctx, acc.ID, "suppressed@example.com"); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a suppression added after the seed: %v; want it gone", err)
	}
	if _, err := s.GetProperty(ctx, acc.ID, listing.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a listing made after the seed: %v; want it gone", err)
	}
	// The lead counts of analytics are the seeded leads', and nothing else.
	all := []axiom.Span{{Start: time.Unix(0, 0), End: time.Now().Add(time.Hour)}}
	for _, a := range d.Accounts {
		counts, err := s.CountLeads(ctx, a.Account.ID, all, axiom.LeadTotal)
		if err != nil || len(counts) != 1 || counts[0][""] != len(a.Leads) {
			t.Errorf("CountLeads(%s) after Reset = %v, %v; want %d", a.Account.ID, counts, err, len(a.Leads))
		}
	}
	// Reset to nothing empties the database.
	if err := s.Reset(ctx, axiom.Dataset{}); err != nil {
		t.Fatalf("Reset to an empty dataset: %v", err)
	}
	if got := export(t, s); len(got.Accounts) != 0 {
		t.Errorf("after a reset to nothing: %d accounts", len(got.Accounts))
	}
}

// testResetIsWholeToReaders resets again and again while readers, through
// each store, count the seeded account's leads and look its key up: a
// reader between the delete and the reload would find none.
func testResetIsWholeToReaders(t *testing.T, ss []Store) {
	ctx := t.Context()
	d, secrets := SampleDataset()
	seed(t, ss[0], d)
	acc := d.Accounts[0]
	secret := secrets[acc.Keys[0].ID]
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(ss)*2)
	for i := range len(ss) * 2 {
		s := ss[i%len(ss)]
		wg.Go(func() {
			for !stop.Load() {
				p, err := s.ListLeads(ctx, acc.Account.ID, axiom.Query{Page: 1, Limit: 100, Sort: "created_at"})
				if err == nil && len(p.Items) != len(acc.Leads) {
					err = fmt.Errorf("a reader saw %d leads; the dataset has %d", len(p.Items), len(acc.Leads))
				}
				if err == nil {
					_, _, err = s.KeyByHash(ctx, axiom.HashSecret(secret))
				}
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		})
	}
	for i := 0; i < 30 && len(errs) == 0; i++ {
		if err := ss[i%len(ss)].Reset(ctx, d); err != nil {
			t.Errorf("Reset %d: %v", i, err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no read ran beside the resets")
	}
	if diff := DatasetDiff(export(t, ss[0]), d); diff != "" {
		t.Errorf("Export after the resets: %s", diff)
	}
}

// BenchmarkReset measures Reset of s to a dataset of the sample's records
// and leads more leads, with readers listing leads throughout when busy is
// set, as a test suite's requests would.
func BenchmarkReset(b *testing.B, s Store, leads int, busy bool) {
	ctx := b.Context()
	d, _ := SampleDataset()
	acc := &d.Accounts[0]
	for i := range leads {
		l := acc.Leads[0]
		l.ID = axiom.DerivedID(axiom.PrefixLead, "bench", strconv.Itoa(i))
		l.Email = fmt.Sprintf("bench%d@example.com", i)
		acc.Leads = append(acc.Leads, l)
	}
	if err := s.Seed(ctx, d); err != nil {
		b.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	if busy {
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					if _, err := s.ListLeads(ctx, acc.Account.ID, axiom.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.Reset(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
}

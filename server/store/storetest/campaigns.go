package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

// campaignTests are the cases of campaigns, their outbox and tracking.
var campaignTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"CampaignCRUD", testCampaignCRUD},
	{"CampaignList", testCampaignList},
	{"CampaignStates", testCampaignStates},
	{"CampaignStartAudience", testCampaignStartAudience},
	{"CampaignStartIsAtomic", testCampaignStartIsAtomic},
	{"CampaignConcurrentStarts", testCampaignConcurrentStarts},
	{"CampaignIsolation", testCampaignIsolation},
	{"OutboxClaimsAreExclusive", testOutboxClaimsAreExclusive},
	{"OutboxLeasesAndRetries", testOutboxLeasesAndRetries},
	{"OutboxCancelAndFinish", testOutboxCancelAndFinish},
	{"DueCampaigns", testDueCampaigns},
	{"CampaignTracking", testCampaignTracking},
}

// campaignSetup is an account with a template and a campaign store.
func campaignSetup(t *testing.T, s store.Store) (store.Account, store.Template) {
	t.Helper()
	a := newAccount(t, s)
	tmpl, err := s.CreateTemplate(t.Context(), store.Template{AccountID: a.ID, Slug: "news-" + fmt.Sprintf("%08x", time.Now().UnixNano()&0xffffffff),
		Name: "News", Subject: "Hi {{name}}", Content: "<p>Hi</p>"})
	if err != nil {
		t.Fatalf("CreateTemplate: %v", err)
	}
	return a, tmpl
}

func createCampaign(t *testing.T, s store.Store, c store.Campaign) store.Campaign {
	t.Helper()
	got, err := s.CreateCampaign(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCampaign(%s): %v", c.Name, err)
	}
	return got
}

// compose renders a message that names the lead and the template, with
// two tracked links.
func compose(c store.Campaign, t store.Template) (store.Renderer, error) {
	return func(l store.Lead) (store.Message, error) {
		return store.Message{
			To: l.Email, ToName: l.Name, Subject: t.Subject + " " + l.Name,
			HTML: "<p>" + t.Content + " " + l.Name + "</p>", Text: t.Content + " " + l.Name,
			OpenToken: rand.Text(), UnsubscribeToken: rand.Text(),
			Links: []store.Link{{Token: rand.Text(), URL: "https://example.com/a?lead=" + l.ID}, {Token: rand.Text(), URL: "https://example.com/b"}},
		}, nil
	}, nil
}

func start(t *testing.T, s store.Store, c store.Campaign) store.Campaign {
	t.Helper()
	got, err := s.StartCampaign(t.Context(), c.AccountID, c.ID, time.Now(), compose)
	if err != nil {
		t.Fatalf("StartCampaign(%s): %v", c.Name, err)
	}
	return got
}

func allMessages(t *testing.T, s store.Store, c store.Campaign) []store.Message {
	t.Helper()
	var all []store.Message
	for p := 1; ; p++ {
		page, err := s.ListMessages(t.Context(), c.AccountID, c.ID, store.Query{Page: p, Limit: 7})
		if err != nil {
			t.Fatalf("ListMessages: %v", err)
		}
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
	}
}

func wantState(t *testing.T, what string, err error, status string) {
	t.Helper()
	var se *store.StateError
	if !errors.Is(err, store.ErrInvalidState) || !errors.As(err, &se) || se.Status != status {
		t.Errorf("%s: error %v; want a StateError with status %s", what, err, status)
	}
}

func testCampaignCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	w := begin()
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "May", Template: tmpl.Slug,
		Audience: store.Audience{Tags: []string{"buyer"}, Types: []string{"lead", "client"}}})
	w = w.end()
	if c.ID == "" || c.Status != store.CampaignDraft || c.ScheduledAt != nil || c.StartedAt != nil || c.CompletedAt != nil ||
		c.Counts != (store.CampaignCounts{}) || c.Template != tmpl.Slug || c.AccountID != a.ID {
		t.Errorf("CreateCampaign = %+v", c)
	}
	checkTime(t, "campaign CreatedAt", c.CreatedAt, w)
	if !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("UpdatedAt %v != CreatedAt %v", c.UpdatedAt, c.CreatedAt)
	}
	got, err := s.GetCampaign(ctx, a.ID, c.ID)
	if err != nil || got.Name != "May" || !slices.Equal(got.Audience.Tags, []string{"buyer"}) ||
		!slices.Equal(got.Audience.Types, []string{"lead", "client"}) || len(got.Audience.Statuses) != 0 || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("GetCampaign = %+v, %v", got, err)
	}

	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	sc := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Later", Template: tmpl.Slug, ScheduledAt: &at})
	if sc.Status != store.CampaignScheduled || sc.ScheduledAt == nil || !sc.ScheduledAt.Equal(at) {
		t.Errorf("CreateCampaign with ScheduledAt = %+v", sc)
	}
	if _, err := s.CreateCampaign(ctx, store.Campaign{AccountID: a.ID, Name: "X", Template: "nope-00000000"}); !errors.Is(err, store.ErrTemplateNotFound) {
		t.Errorf("CreateCampaign with a missing template: %v; want ErrTemplateNotFound", err)
	}

	time.Sleep(2 * time.Millisecond)
	other, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: "other-0000abcd", Name: "O", Subject: "S", Content: "C"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := s.UpdateCampaign(ctx, a.ID, c.ID, store.CampaignPatch{Name: ptr("June"), Template: &other.Slug,
		Audience: &store.Audience{Statuses: []string{"active"}}})
	if err != nil || up.Name != "June" || up.Template != other.Slug || len(up.Audience.Tags) != 0 ||
		!slices.Equal(up.Audience.Statuses, []string{"active"}) || !up.UpdatedAt.After(c.UpdatedAt) || !up.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("UpdateCampaign = %+v, %v", up, err)
	}
	if _, err := s.UpdateCampaign(ctx, a.ID, c.ID, store.CampaignPatch{Template: ptr("nope-00000000")}); !errors.Is(err, store.ErrTemplateNotFound) {
		t.Errorf("UpdateCampaign to a missing template: %v", err)
	}
	if got, _ := s.GetCampaign(ctx, a.ID, c.ID); got.Template != other.Slug {
		t.Errorf("a refused update changed the campaign: %+v", got)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Fatalf("DeleteCampaign: %v", err)
	}
	if _, err := s.GetCampaign(ctx, a.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCampaign after delete: %v", err)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteCampaign twice: %v", err)
	}
	if _, err := s.UpdateCampaign(ctx, a.ID, "cmp_nope", store.CampaignPatch{Name: ptr("X")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateCampaign(unknown): %v", err)
	}
}

func testCampaignList(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	var cs []store.Campaign
	for i, name := range []string{"bravo", "Alpha", "charlie", "alpha", "Delta"} {
		cs = append(cs, createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: name, Template: tmpl.Slug}))
		if i%2 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if _, err := s.CancelCampaign(ctx, a.ID, cs[2].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	list := func(q store.Query, status string) []string {
		var names []string
		for p := 1; ; p++ {
			q.Page = p
			page, err := s.ListCampaigns(ctx, a.ID, q, status)
			if err != nil {
				t.Fatalf("ListCampaigns: %v", err)
			}
			for _, c := range page.Campaigns {
				names = append(names, c.Name)
			}
			if !page.HasMore {
				return names
			}
		}
	}
	byName := slices.Clone(cs)
	sort.SliceStable(byName, func(i, j int) bool {
		ki, kj := store.SortKey(byName[i].Name), store.SortKey(byName[j].Name)
		if ki != kj {
			return ki < kj
		}
		return byName[i].ID < byName[j].ID
	})
	var want []string
	for _, c := range byName {
		want = append(want, c.Name)
	}
	if got := list(store.Query{Limit: 2, Sort: "name"}, ""); !slices.Equal(got, want) {
		t.Errorf("by name: %v; want %v", got, want)
	}
	slices.Reverse(want)
	if got := list(store.Query{Limit: 3, Sort: "name", Desc: true}, ""); !slices.Equal(got, want) {
		t.Errorf("by name, descending: %v; want %v", got, want)
	}
	byCreation := slices.Clone(cs)
	sort.SliceStable(byCreation, func(i, j int) bool {
		if c := byCreation[i].CreatedAt.Compare(byCreation[j].CreatedAt); c != 0 {
			return c < 0
		}
		return byCreation[i].ID < byCreation[j].ID
	})
	want = want[:0]
	for _, c := range byCreation {
		want = append(want, c.Name)
	}
	if got := list(store.Query{Limit: 10}, ""); !slices.Equal(got, want) {
		t.Errorf("by creation: %v; want %v", got, want)
	}
	if got := list(store.Query{Limit: 10}, store.CampaignCancelled); !slices.Equal(got, []string{"charlie"}) {
		t.Errorf("cancelled only: %v", got)
	}
	if got := list(store.Query{Limit: 10, Sort: "updated_at", Desc: true}, ""); got[0] != "charlie" {
		t.Errorf("by update, descending: %v; want the cancelled one first", got)
	}
	if _, err := s.ListCampaigns(ctx, a.ID, store.Query{Page: 1, Limit: 10, Sort: "email"}, ""); err == nil {
		t.Error("ListCampaigns sorted by email: no error")
	}
}

func testCampaignStates(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	createLead(t, s, store.Lead{AccountID: a.ID, Name: "Jane", Email: "jane@example.com", Type: "lead", Status: "active"})
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	sc, err := s.ScheduleCampaign(ctx, a.ID, c.ID, at)
	if err != nil || sc.Status != store.CampaignScheduled || !sc.ScheduledAt.Equal(at) {
		t.Fatalf("ScheduleCampaign = %+v, %v", sc, err)
	}
	at2 := at.Add(time.Hour)
	if sc, err = s.ScheduleCampaign(ctx, a.ID, c.ID, at2); err != nil || !sc.ScheduledAt.Equal(at2) {
		t.Fatalf("ScheduleCampaign again = %+v, %v", sc, err)
	}
	if _, err := s.UpdateCampaign(ctx, a.ID, c.ID, store.CampaignPatch{Name: ptr("Scheduled")}); err != nil {
		t.Errorf("UpdateCampaign of a scheduled campaign: %v", err)
	}
	w := begin()
	started, err := s.StartCampaign(ctx, a.ID, c.ID, time.Now(), compose)
	w = w.end()
	if err != nil || started.Status != store.CampaignSending || started.StartedAt == nil || started.Counts.Recipients != 1 {
		t.Fatalf("StartCampaign = %+v, %v", started, err)
	}
	checkTime(t, "StartedAt", *started.StartedAt, w)
	_, err = s.UpdateCampaign(ctx, a.ID, c.ID, store.CampaignPatch{Name: ptr("X")})
	wantState(t, "update a sending campaign", err, store.CampaignSending)
	_, err = s.StartCampaign(ctx, a.ID, c.ID, time.Now(), compose)
	wantState(t, "start a sending campaign", err, store.CampaignSending)
	_, err = s.ScheduleCampaign(ctx, a.ID, c.ID, at)
	wantState(t, "schedule a sending campaign", err, store.CampaignSending)
	wantState(t, "delete a sending campaign", s.DeleteCampaign(ctx, a.ID, c.ID), store.CampaignSending)
	cancelled, err := s.CancelCampaign(ctx, a.ID, c.ID, time.Now())
	if err != nil || cancelled.Status != store.CampaignCancelled || cancelled.CompletedAt == nil {
		t.Fatalf("CancelCampaign = %+v, %v", cancelled, err)
	}
	_, err = s.CancelCampaign(ctx, a.ID, c.ID, time.Now())
	wantState(t, "cancel twice", err, store.CampaignCancelled)
	_, err = s.StartCampaign(ctx, a.ID, c.ID, time.Now(), compose)
	wantState(t, "start a cancelled campaign", err, store.CampaignCancelled)
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Errorf("DeleteCampaign of a cancelled campaign: %v", err)
	}

	// A template deleted before the start.
	gone, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: "gone-0000abcd", Name: "G", Subject: "S", Content: "C"})
	if err != nil {
		t.Fatal(err)
	}
	d := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "D", Template: gone.Slug})
	if err := s.DeleteTemplate(ctx, a.ID, gone.Slug); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, a.ID, d.ID, time.Now(), compose); !errors.Is(err, store.ErrTemplateNotFound) {
		t.Errorf("StartCampaign without its template: %v", err)
	}
	if got, _ := s.GetCampaign(ctx, a.ID, d.ID); got.Status != store.CampaignDraft {
		t.Errorf("a refused start changed the status to %s", got.Status)
	}
}

func testCampaignStartAudience(t *testing.T, s store.Store) {
	a, tmpl := campaignSetup(t, s)
	type L struct {
		name, typ, status string
		tags              []string
	}
	for i, l := range []L{
		{"a", "lead", "active", []string{"buyer"}},
		{"b", "client", "active", []string{"buyer", "vip"}},
		{"c", "client", "inactive", []string{"seller"}},
		{"d", "partner", "active", nil},
		{"e", "lead", "unsubscribed", []string{"buyer"}},
		{"f", "lead", "inactive", []string{"vip"}},
	} {
		createLead(t, s, store.Lead{AccountID: a.ID, Name: l.name, Email: fmt.Sprintf("%s%d@example.com", l.name, i),
			Type: l.typ, Status: l.status, Tags: l.tags})
		time.Sleep(time.Millisecond)
	}
	other, _ := campaignSetup(t, s)
	createLead(t, s, store.Lead{AccountID: other.ID, Name: "z", Email: "z@example.com", Type: "lead", Status: "active", Tags: []string{"buyer"}})
	for _, tc := range []struct {
		audience store.Audience
		want     []string
	}{
		{store.Audience{}, []string{"a", "b", "c", "d", "f"}},
		{store.Audience{Tags: []string{"buyer"}}, []string{"a", "b"}},
		{store.Audience{Tags: []string{"vip", "seller"}}, []string{"b", "c", "f"}},
		{store.Audience{Types: []string{"client"}}, []string{"b", "c"}},
		{store.Audience{Statuses: []string{"inactive"}}, []string{"c", "f"}},
		{store.Audience{Tags: []string{"vip"}, Statuses: []string{"active"}}, []string{"b"}},
		{store.Audience{Tags: []string{"buyer"}, Types: []string{"partner"}}, nil},
	} {
		c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: fmt.Sprint(tc.audience), Template: tmpl.Slug, Audience: tc.audience})
		started := start(t, s, c)
		ms := allMessages(t, s, c)
		var got []string
		for _, m := range ms {
			got = append(got, m.ToName)
			if m.CampaignID != c.ID || m.AccountID != a.ID || m.Status != store.MessageQueued || m.Attempts != 0 ||
				m.SentAt != nil || m.Error != "" || m.OpenToken == "" || m.UnsubscribeToken == "" || m.ID == "" {
				t.Errorf("message %+v", m)
			}
			if m.Subject != tmpl.Subject+" "+m.ToName || m.HTML != "<p>"+tmpl.Content+" "+m.ToName+"</p>" {
				t.Errorf("message not rendered from the template: %+v", m)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("audience %+v: recipients %v; want %v (oldest lead first)", tc.audience, got, tc.want)
		}
		if started.Counts.Recipients != len(tc.want) {
			t.Errorf("audience %+v: Counts %+v", tc.audience, started.Counts)
		}
	}
}

func testCampaignStartIsAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 5 {
		createLead(t, s, store.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i), Type: "lead", Status: "active"})
	}
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	n := 0
	failing := func(c store.Campaign, t store.Template) (store.Renderer, error) {
		r, _ := compose(c, t)
		return func(l store.Lead) (store.Message, error) {
			if n++; n == 3 {
				return store.Message{}, errors.New("render failed")
			}
			return r(l)
		}, nil
	}
	if _, err := s.StartCampaign(ctx, a.ID, c.ID, time.Now(), failing); err == nil {
		t.Fatal("StartCampaign with a failing renderer: no error")
	}
	got, err := s.GetCampaign(ctx, a.ID, c.ID)
	if err != nil || got.Status != store.CampaignDraft || got.Counts.Recipients != 0 || got.StartedAt != nil {
		t.Fatalf("after a failed start: %+v, %v; want an untouched draft", got, err)
	}
	if ms := allMessages(t, s, c); len(ms) != 0 {
		t.Fatalf("a failed start left %d messages", len(ms))
	}
	if started := start(t, s, c); started.Counts.Recipients != 5 {
		t.Fatalf("start after a failed one: %+v", started)
	}
}

func testCampaignConcurrentStarts(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 20 {
		createLead(t, s, store.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i), Type: "lead", Status: "active"})
	}
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = s.StartCampaign(ctx, a.ID, c.ID, time.Now(), compose) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrInvalidState):
			t.Errorf("concurrent StartCampaign: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent starts succeeded; want exactly 1", ok, n)
	}
	ms := allMessages(t, s, c)
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.LeadID] {
			t.Errorf("two messages to lead %s", m.LeadID)
		}
		seen[m.LeadID] = true
	}
	if len(ms) != 20 {
		t.Fatalf("%d messages; want 20", len(ms))
	}
}

func testCampaignIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	b := newAccount(t, s)
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Mine", Template: tmpl.Slug})
	if _, err := s.CreateCampaign(ctx, store.Campaign{AccountID: b.ID, Name: "Theirs", Template: tmpl.Slug}); !errors.Is(err, store.ErrTemplateNotFound) {
		t.Errorf("another account's template: %v; want ErrTemplateNotFound", err)
	}
	checks := map[string]error{}
	_, checks["Get"] = s.GetCampaign(ctx, b.ID, c.ID)
	_, checks["Update"] = s.UpdateCampaign(ctx, b.ID, c.ID, store.CampaignPatch{Name: ptr("X")})
	_, checks["Schedule"] = s.ScheduleCampaign(ctx, b.ID, c.ID, time.Now().Add(time.Hour))
	_, checks["Start"] = s.StartCampaign(ctx, b.ID, c.ID, time.Now(), compose)
	_, checks["Cancel"] = s.CancelCampaign(ctx, b.ID, c.ID, time.Now())
	_, checks["Stats"] = s.CampaignStats(ctx, b.ID, c.ID)
	_, checks["ListMessages"] = s.ListMessages(ctx, b.ID, c.ID, store.Query{Page: 1, Limit: 10})
	checks["Delete"] = s.DeleteCampaign(ctx, b.ID, c.ID)
	for op, err := range checks {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of another account's campaign: %v; want ErrNotFound", op, err)
		}
	}
	if page, err := s.ListCampaigns(ctx, b.ID, store.Query{Page: 1, Limit: 10}, ""); err != nil || len(page.Campaigns) != 0 {
		t.Errorf("another account lists %+v, %v", page, err)
	}
	if got, err := s.GetCampaign(ctx, a.ID, c.ID); err != nil || got.Name != "Mine" || got.Status != store.CampaignDraft {
		t.Errorf("after another account's calls: %+v, %v", got, err)
	}
}

// sendingCampaign starts a campaign to n new leads.
func sendingCampaign(t *testing.T, s store.Store, n int) store.Campaign {
	t.Helper()
	a, tmpl := campaignSetup(t, s)
	for i := range n {
		createLead(t, s, store.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i), Type: "lead", Status: "active"})
	}
	return start(t, s, createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
}

func testOutboxClaimsAreExclusive(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 30)
	now := time.Now()
	const workers = 6
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				ms, err := s.ClaimMessages(ctx, now, time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimMessages: %v", err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					claimed[m.ID]++
					if m.Attempts != 1 || m.Status != store.MessageQueued || m.CampaignID != c.ID {
						t.Errorf("claimed %+v", m)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != 30 {
		t.Fatalf("%d messages claimed; want 30", len(claimed))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("message %s claimed %d times", id, n)
		}
	}
}

func testOutboxLeasesAndRetries(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 3)
	now := time.Now().UTC().Truncate(time.Millisecond)
	lease := time.Minute
	first, err := s.ClaimMessages(ctx, now, lease, 10)
	if err != nil || len(first) != 3 {
		t.Fatalf("ClaimMessages = %d, %v; want 3", len(first), err)
	}
	if again, err := s.ClaimMessages(ctx, now.Add(lease-time.Millisecond), lease, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim during the lease = %d, %v; want none", len(again), err)
	}
	// The lease expires: every message is free again (its worker died).
	second, err := s.ClaimMessages(ctx, now.Add(lease), lease, 10)
	if err != nil || len(second) != 3 {
		t.Fatalf("claim after the lease = %d, %v; want 3", len(second), err)
	}
	for _, m := range second {
		if m.Attempts != 2 {
			t.Errorf("attempts %d after two claims", m.Attempts)
		}
	}
	t2 := now.Add(lease + time.Second)
	if err := s.CompleteMessage(ctx, second[0].ID, store.Outcome{Status: store.MessageSent, At: t2}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, second[1].ID, store.Outcome{Status: store.MessageFailed, Error: "550 no such user", At: t2}); err != nil {
		t.Fatal(err)
	}
	retry := t2.Add(time.Hour)
	if err := s.CompleteMessage(ctx, second[2].ID, store.Outcome{Status: store.MessageQueued, Error: "451 later", At: t2, Retry: retry}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.ClaimMessages(ctx, retry.Add(-time.Millisecond), lease, 10); len(ms) != 0 {
		t.Fatalf("claimed %d messages before their retry time", len(ms))
	}
	got, err := s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != store.CampaignSending || got.Counts != (store.CampaignCounts{Recipients: 3, Sent: 1, Failed: 1}) {
		t.Fatalf("campaign with one message to retry: %+v, %v", got, err)
	}
	ms := allMessages(t, s, c)
	byID := map[string]store.Message{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	if m := byID[second[0].ID]; m.Status != store.MessageSent || m.SentAt == nil || !m.SentAt.Equal(t2) {
		t.Errorf("sent message: %+v", m)
	}
	if m := byID[second[1].ID]; m.Status != store.MessageFailed || m.Error != "550 no such user" || m.SentAt != nil {
		t.Errorf("failed message: %+v", m)
	}
	if m := byID[second[2].ID]; m.Status != store.MessageQueued || m.Error != "451 later" {
		t.Errorf("message to retry: %+v", m)
	}
	last, err := s.ClaimMessages(ctx, retry, lease, 10)
	if err != nil || len(last) != 1 || last[0].ID != second[2].ID || last[0].Attempts != 3 {
		t.Fatalf("claim at the retry time = %+v, %v", last, err)
	}
	w := begin()
	if err := s.CompleteMessage(ctx, last[0].ID, store.Outcome{Status: store.MessageSent, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	w = w.end()
	got, err = s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != store.CampaignSent || got.CompletedAt == nil || got.Counts != (store.CampaignCounts{Recipients: 3, Sent: 2, Failed: 1}) {
		t.Fatalf("campaign after its last message: %+v, %v", got, err)
	}
	checkTime(t, "CompletedAt", *got.CompletedAt, w)
	if err := s.CompleteMessage(ctx, "msg_nope", store.Outcome{Status: store.MessageSent, At: time.Now()}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteMessage(unknown): %v", err)
	}
}

func testOutboxCancelAndFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 4)
	claimed, err := s.ClaimMessages(ctx, time.Now(), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	if _, err := s.CancelCampaign(ctx, c.AccountID, c.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.ClaimMessages(ctx, time.Now().Add(time.Hour), time.Minute, 10); err != nil || len(ms) != 0 {
		t.Fatalf("claimed %d messages of a cancelled campaign, %v", len(ms), err)
	}
	// The message in flight when the campaign was cancelled is recorded.
	if err := s.CompleteMessage(ctx, claimed[0].ID, store.Outcome{Status: store.MessageSent, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st, err := s.CampaignStats(ctx, c.AccountID, c.ID)
	if err != nil || st.Recipients != 4 || st.Sent != 1 || st.Pending != 3 {
		t.Fatalf("stats of the cancelled campaign: %+v, %v", st, err)
	}
	if got, _ := s.GetCampaign(ctx, c.AccountID, c.ID); got.Status != store.CampaignCancelled {
		t.Fatalf("status %s; a cancelled campaign stays cancelled", got.Status)
	}

	// A campaign whose audience is empty finishes at once.
	a, tmpl := campaignSetup(t, s)
	empty := start(t, s, createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Nobody", Template: tmpl.Slug}))
	if empty.Status != store.CampaignSending || empty.Counts.Recipients != 0 {
		t.Fatalf("started with nobody: %+v", empty)
	}
	n, err := s.FinishCampaigns(ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("FinishCampaigns = %d, %v; want 1", n, err)
	}
	if got, _ := s.GetCampaign(ctx, a.ID, empty.ID); got.Status != store.CampaignSent || got.CompletedAt == nil {
		t.Fatalf("after FinishCampaigns: %+v", got)
	}
	if n, err := s.FinishCampaigns(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("FinishCampaigns again = %d, %v; want 0", n, err)
	}
}

func testDueCampaigns(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	now := time.Now().UTC().Truncate(time.Millisecond)
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	due := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Due", Template: tmpl.Slug, ScheduledAt: &past})
	createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Later", Template: tmpl.Slug, ScheduledAt: &future})
	createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Draft", Template: tmpl.Slug})
	cancelled := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Cancelled", Template: tmpl.Slug, ScheduledAt: &past})
	if _, err := s.CancelCampaign(ctx, a.ID, cancelled.ID, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.DueCampaigns(ctx, now, 10)
	if err != nil || len(got) != 1 || got[0].ID != due.ID || got[0].AccountID != a.ID {
		t.Fatalf("DueCampaigns = %+v, %v; want only %s", got, err, due.ID)
	}
	if got, _ := s.DueCampaigns(ctx, future, 10); len(got) != 2 {
		t.Fatalf("DueCampaigns at the later time = %d; want 2", len(got))
	}
	start(t, s, due)
	if got, _ := s.DueCampaigns(ctx, now, 10); len(got) != 0 {
		t.Fatalf("a started campaign is still due: %+v", got)
	}
}

func testCampaignTracking(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 3 {
		createLead(t, s, store.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i), Type: "lead", Status: "active"})
	}
	c := createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	links := map[string][]store.Link{} // by lead
	recording := func(c store.Campaign, t store.Template) (store.Renderer, error) {
		r, _ := compose(c, t)
		return func(l store.Lead) (store.Message, error) {
			m, err := r(l)
			links[l.ID] = m.Links
			return m, err
		}, nil
	}
	if _, err := s.StartCampaign(ctx, a.ID, c.ID, time.Now(), recording); err != nil {
		t.Fatal(err)
	}
	ms := allMessages(t, s, c)
	now := time.Now()
	for _, tok := range []string{ms[0].OpenToken, ms[0].OpenToken, ms[1].OpenToken} {
		if err := s.RecordOpen(ctx, tok, now); err != nil {
			t.Fatalf("RecordOpen: %v", err)
		}
	}
	l0, l1 := links[ms[0].LeadID], links[ms[1].LeadID]
	for _, l := range []store.Link{l0[0], l0[1], l0[0], l1[1]} {
		url, err := s.RecordClick(ctx, l.Token, now)
		if err != nil || url != l.URL {
			t.Fatalf("RecordClick = %q, %v; want %q", url, err, l.URL)
		}
	}
	for _, tok := range []string{"nope", ms[0].UnsubscribeToken} {
		if err := s.RecordOpen(ctx, tok, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordOpen(%q): %v; want ErrNotFound", tok, err)
		}
		if _, err := s.RecordClick(ctx, tok, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordClick(%q): %v; want ErrNotFound", tok, err)
		}
	}
	if _, err := s.RecordClick(ctx, ms[0].OpenToken, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordClick(an open token): %v; want ErrNotFound", err)
	}
	if err := s.Unsubscribe(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Unsubscribe(unknown): %v", err)
	}
	if err := s.Unsubscribe(ctx, ms[2].OpenToken, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Unsubscribe(an open token): %v", err)
	}
	for range 2 {
		if err := s.Unsubscribe(ctx, ms[2].UnsubscribeToken, now); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
	}
	lead, err := s.GetLead(ctx, a.ID, ms[2].LeadID)
	if err != nil || lead.Status != "unsubscribed" {
		t.Fatalf("lead after Unsubscribe: %+v, %v", lead, err)
	}
	// A lead deleted since: the link still answers, and counts.
	if err := s.DeleteLead(ctx, a.ID, ms[1].LeadID); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, ms[1].UnsubscribeToken, now); err != nil {
		t.Fatalf("Unsubscribe of a deleted lead: %v", err)
	}
	st, err := s.CampaignStats(ctx, a.ID, c.ID)
	want := store.CampaignStats{Recipients: 3, Pending: 3, Opens: 3, UniqueOpens: 2, Clicks: 4, UniqueClicks: 2, Unsubscribes: 2}
	if err != nil || st != want {
		t.Fatalf("CampaignStats = %+v, %v; want %+v", st, err, want)
	}
	// The next campaign leaves the unsubscribed lead out.
	next := start(t, s, createCampaign(t, s, store.Campaign{AccountID: a.ID, Name: "Next", Template: tmpl.Slug}))
	if next.Counts.Recipients != 1 {
		t.Fatalf("the next campaign has %d recipients; want 1", next.Counts.Recipients)
	}
	if _, err := s.CancelCampaign(ctx, a.ID, c.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordOpen(ctx, ms[0].OpenToken, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordOpen after the campaign's deletion: %v", err)
	}
	if _, err := s.RecordClick(ctx, l0[0].Token, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordClick after the campaign's deletion: %v", err)
	}
}

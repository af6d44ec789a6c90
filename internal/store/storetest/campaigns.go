package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// campaignTests are the cases of campaigns, their outbox and tracking.
var campaignTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"CampaignCRUD", testCampaignCRUD},
	{"CampaignList", testCampaignList},
	{"CampaignRules", testCampaignRules},
	{"CampaignLifeCycle", testCampaignLifeCycle},
	{"CampaignStartAudience", testCampaignStartAudience},
	{"CampaignIsolation", testCampaignIsolation},
	{"OutboxClaimsAndRetries", testOutboxClaimsAndRetries},
	{"OutboxCancelAndFinish", testOutboxCancelAndFinish},
	{"OutboxTakesAccountsInTurn", testOutboxTakesAccountsInTurn},
	{"SendUsage", testSendUsage},
	{"CompactMessages", testCompactMessages},
	{"CampaignSnapshot", testCampaignSnapshot},
	{"DueCampaigns", testDueCampaigns},
	{"CampaignTracking", testCampaignTracking},
	{"CampaignLinks", testCampaignLinks},
}

// The statuses and operations of a campaign, every one.
var (
	allStatuses = []axiom.CampaignStatus{axiom.CampaignDraft, axiom.CampaignScheduled, axiom.CampaignSending, axiom.CampaignSent, axiom.CampaignCancelled}
	allOps      = []axiom.CampaignOp{axiom.OpUpdate, axiom.OpDelete, axiom.OpSchedule, axiom.OpSend, axiom.OpCancel, axiom.OpFinish}
)

// campaignSetup is an account with a template.
func campaignSetup(t *testing.T, s Store) (axiom.Account, axiom.Template) {
	t.Helper()
	a := newAccount(t, s)
	tmpl := createTemplate(t, s, axiom.NewTemplate(a.ID, axiom.Template{Name: "News", Subject: "Hi {{name}}", Content: "<p>Hi</p>"}, time.Now()))
	return a, tmpl
}

// createCampaign stores c as a new campaign of c.AccountID, made now.
func createCampaign(t *testing.T, s Store, c axiom.Campaign) axiom.Campaign {
	t.Helper()
	c = axiom.NewCampaign(c.AccountID, c, time.Now())
	if err := s.CreateCampaign(t.Context(), c); err != nil {
		t.Fatalf("CreateCampaign(%s): %v", c.Name, err)
	}
	return c
}

// campaignLinks are the targets of the tracked links of every campaign the
// suite sends, which send stores.
var campaignLinks = []string{"https://example.com/a", "https://example.com/b?x=1&y=2"}

// render is the message of l from the template; its tracked links are its
// open token and each of campaignLinks' positions.
func render(c axiom.Campaign, t axiom.Template, l axiom.Lead) axiom.Message {
	at := now()
	return axiom.Message{
		ID: axiom.NewID(axiom.PrefixMessage, at), CampaignID: c.ID, AccountID: c.AccountID, LeadID: l.ID,
		To: l.Email, ToName: l.Name, Subject: t.Subject + " " + l.Name,
		HTML: "<p>" + t.Content + " " + l.Name + "</p>", Text: t.Content + " " + l.Name,
		OpenToken: rand.Text(), UnsubscribeToken: rand.Text(),
		Status: axiom.MessageQueued, CreatedAt: at,
	}
}

// hold is how long the tests' enqueuers hold a campaign.
const hold = time.Minute

// send moves c to sending, starting its enqueueing, and stores the targets
// of its tracked links, as the campaign service does.
func send(t *testing.T, s Store, c axiom.Campaign) axiom.Campaign {
	t.Helper()
	at := now()
	got, err := s.ChangeCampaign(t.Context(), c.AccountID, c.ID, axiom.OpSend,
		axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: new(at.Add(hold))})
	if err != nil {
		t.Fatalf("ChangeCampaign(%s, send): %v", c.Name, err)
	}
	if err := s.SaveCampaignLinks(t.Context(), c.ID, campaignLinks); err != nil {
		t.Fatalf("SaveCampaignLinks(%s): %v", c.Name, err)
	}
	return got
}

// enqueue queues the messages of c's audience after cursor, batch leads
// at a time, as the campaign service does, and marks it wholly enqueued;
// rendered, if set, sees every message queued.
func enqueue(t *testing.T, s Store, c axiom.Campaign, cursor string, batch int, rendered func(axiom.Message)) {
	t.Helper()
	ctx := t.Context()
	tmpl, err := s.GetTemplate(ctx, c.AccountID, c.Template)
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	for {
		leads, err := s.AudienceLeads(ctx, c.AccountID, cursor, batch)
		if err != nil {
			t.Fatalf("AudienceLeads: %v", err)
		}
		if len(leads) == 0 {
			break
		}
		var ms []axiom.Message
		for _, l := range leads {
			if c.Audience.Matches(l) {
				m := render(c, tmpl, l)
				if rendered != nil {
					rendered(m)
				}
				ms = append(ms, m)
			}
		}
		cursor = leads[len(leads)-1].ID
		if err := s.EnqueueMessages(ctx, c.ID, ms, cursor, now().Add(hold)); err != nil {
			t.Fatalf("EnqueueMessages: %v", err)
		}
		if len(leads) < batch {
			break
		}
	}
	if _, err := s.FinishEnqueue(ctx, c.ID); err != nil {
		t.Fatalf("FinishEnqueue: %v", err)
	}
}

// start sends c and queues its whole audience.
func start(t *testing.T, s Store, c axiom.Campaign) axiom.Campaign {
	t.Helper()
	enqueue(t, s, send(t, s, c), "", 3, nil)
	got, err := s.GetCampaign(t.Context(), c.AccountID, c.ID)
	if err != nil {
		t.Fatalf("GetCampaign: %v", err)
	}
	return got
}

func allMessages(t *testing.T, s Store, c axiom.Campaign) []axiom.Message {
	t.Helper()
	var all []axiom.Message
	for p := 1; ; p++ {
		page, err := s.ListMessages(t.Context(), c.AccountID, c.ID, axiom.Query{Page: p, Limit: 7})
		if err != nil {
			t.Fatalf("ListMessages: %v", err)
		}
		all = append(all, page.Items...)
		if !page.HasMore {
			return all
		}
	}
}

// inStatus returns a new campaign of a in status st, reached by the
// operations the rules allow.
func inStatus(t *testing.T, s Store, a axiom.Account, tmpl axiom.Template, st axiom.CampaignStatus) axiom.Campaign {
	t.Helper()
	c := axiom.Campaign{AccountID: a.ID, Name: "In " + string(st), Template: tmpl.Slug}
	if st == axiom.CampaignScheduled {
		c.ScheduledAt = new(now().Add(time.Hour))
	}
	c = createCampaign(t, s, c)
	change := func(op axiom.CampaignOp, ch axiom.CampaignChange) {
		t.Helper()
		var err error
		ch.UpdatedAt = now()
		if c, err = s.ChangeCampaign(t.Context(), a.ID, c.ID, op, ch); err != nil {
			t.Fatalf("ChangeCampaign(%s): %v", op, err)
		}
	}
	switch st {
	case axiom.CampaignSending:
		change(axiom.OpSend, axiom.CampaignChange{StartedAt: new(now())})
	case axiom.CampaignSent:
		change(axiom.OpSend, axiom.CampaignChange{StartedAt: new(now())})
		change(axiom.OpFinish, axiom.CampaignChange{CompletedAt: new(now())})
	case axiom.CampaignCancelled:
		change(axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now())})
	}
	if c.Status != st {
		t.Fatalf("campaign made %s is %s", st, c.Status)
	}
	return c
}

func testCampaignCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "May", Template: tmpl.Slug,
		Audience: axiom.Audience{Tags: []string{"buyer"}, Types: []string{"lead", "client"}}})
	got, err := s.GetCampaign(ctx, a.ID, c.ID)
	if err != nil || got.Name != "May" || got.Status != axiom.CampaignDraft || got.Template != tmpl.Slug || got.AccountID != a.ID ||
		!slices.Equal(got.Audience.Tags, []string{"buyer"}) || !slices.Equal(got.Audience.Types, []string{"lead", "client"}) ||
		got.Audience.Statuses == nil || len(got.Audience.Statuses) != 0 ||
		got.ScheduledAt != nil || got.StartedAt != nil || got.CompletedAt != nil || got.Counts != (axiom.CampaignCounts{}) ||
		!got.CreatedAt.Equal(c.CreatedAt) || !got.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("GetCampaign = %+v, %v; want %+v", got, err, c)
	}
	checkStoreTime(t, "campaign CreatedAt", got.CreatedAt)

	at := now().Add(time.Hour)
	sc := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Later", Template: tmpl.Slug, ScheduledAt: &at})
	if got, err := s.GetCampaign(ctx, a.ID, sc.ID); err != nil || got.Status != axiom.CampaignScheduled || got.ScheduledAt == nil || !got.ScheduledAt.Equal(at) {
		t.Errorf("GetCampaign of a scheduled campaign = %+v, %v", got, err)
	}
	missing := axiom.NewCampaign(a.ID, axiom.Campaign{Name: "X", Template: "nope-00000000"}, time.Now())
	wantError(t, "CreateCampaign with a missing template", s.CreateCampaign(ctx, missing), axiom.CampaignTemplateNotFound("nope-00000000"))
	if _, err := s.GetCampaign(ctx, a.ID, missing.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a refused campaign was stored: %v", err)
	}

	other := createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: "other-0000abcd", Name: "O", Subject: "S", Content: "C"})
	updated := c.UpdatedAt.Add(time.Minute)
	up, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpUpdate, axiom.CampaignChange{Name: new("June"), Template: &other.Slug,
		Audience: &axiom.Audience{Statuses: []string{"active"}}, UpdatedAt: updated})
	if err != nil || up.Name != "June" || up.Template != other.Slug || up.Audience.Tags == nil || len(up.Audience.Tags) != 0 ||
		!slices.Equal(up.Audience.Statuses, []string{"active"}) || !up.UpdatedAt.Equal(updated) || !up.CreatedAt.Equal(c.CreatedAt) ||
		up.Status != axiom.CampaignDraft {
		t.Errorf("ChangeCampaign(update) = %+v, %v", up, err)
	}
	if got, err := s.GetCampaign(ctx, a.ID, c.ID); err != nil || got.Name != "June" || got.Template != other.Slug || !got.UpdatedAt.Equal(updated) {
		t.Errorf("GetCampaign after an update = %+v, %v", got, err)
	}
	_, err = s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpUpdate, axiom.CampaignChange{Template: new("nope-00000000"), UpdatedAt: now()})
	wantError(t, "ChangeCampaign(update) to a missing template", err, axiom.CampaignTemplateNotFound("nope-00000000"))
	if got, _ := s.GetCampaign(ctx, a.ID, c.ID); got.Template != other.Slug || !got.UpdatedAt.Equal(updated) {
		t.Errorf("a refused update changed the campaign: %+v", got)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Fatalf("DeleteCampaign: %v", err)
	}
	_, err = s.GetCampaign(ctx, a.ID, c.ID)
	wantError(t, "GetCampaign after delete", err, axiom.CampaignNotFound(c.ID))
	wantError(t, "DeleteCampaign twice", s.DeleteCampaign(ctx, a.ID, c.ID), axiom.CampaignNotFound(c.ID))
	_, err = s.ChangeCampaign(ctx, a.ID, "cmp_nope", axiom.OpUpdate, axiom.CampaignChange{Name: new("X"), UpdatedAt: now()})
	wantError(t, "ChangeCampaign(unknown)", err, axiom.CampaignNotFound("cmp_nope"))
	if _, err := s.ChangeCampaign(ctx, a.ID, sc.ID, axiom.CampaignOp("explode"), axiom.CampaignChange{}); err == nil {
		t.Errorf("ChangeCampaign with an operation the rules lack succeeded")
	}
}

func testCampaignList(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	var cs []axiom.Campaign
	for i, name := range []string{"bravo", "Alpha", "charlie", "alpha", "Delta"} {
		cs = append(cs, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: name, Template: tmpl.Slug}))
		if i%2 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	at := now().Add(time.Second)
	if _, err := s.ChangeCampaign(ctx, a.ID, cs[2].ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	list := func(q axiom.Query, status axiom.CampaignStatus) []string {
		var names []string
		for p := 1; ; p++ {
			q.Page = p
			page, err := s.ListCampaigns(ctx, a.ID, q, status)
			if err != nil {
				t.Fatalf("ListCampaigns: %v", err)
			}
			for _, c := range page.Items {
				names = append(names, c.Name)
			}
			if !page.HasMore {
				return names
			}
		}
	}
	byName := slices.Clone(cs)
	sort.SliceStable(byName, func(i, j int) bool {
		ki, kj := axiom.SortKey(byName[i].Name), axiom.SortKey(byName[j].Name)
		if ki != kj {
			return ki < kj
		}
		return byName[i].ID < byName[j].ID
	})
	var want []string
	for _, c := range byName {
		want = append(want, c.Name)
	}
	if got := list(axiom.Query{Limit: 2, Sort: "name"}, ""); !slices.Equal(got, want) {
		t.Errorf("by name: %v; want %v", got, want)
	}
	slices.Reverse(want)
	if got := list(axiom.Query{Limit: 3, Sort: "name", Desc: true}, ""); !slices.Equal(got, want) {
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
	if got := list(axiom.Query{Limit: 10}, ""); !slices.Equal(got, want) {
		t.Errorf("by creation: %v; want %v", got, want)
	}
	if got := list(axiom.Query{Limit: 10}, axiom.CampaignCancelled); !slices.Equal(got, []string{"charlie"}) {
		t.Errorf("cancelled only: %v", got)
	}
	if got := list(axiom.Query{Limit: 10, Sort: "updated_at", Desc: true}, ""); got[0] != "charlie" {
		t.Errorf("by update, descending: %v; want the cancelled one first", got)
	}
	if _, err := s.ListCampaigns(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Sort: "email"}, ""); err == nil {
		t.Error("ListCampaigns sorted by email: no error")
	}
}

// testCampaignRules applies every operation to a campaign in every status:
// the store allows exactly what the domain's rules allow, leaves the status
// they say, and refuses the rest with the state error, changing nothing.
func testCampaignRules(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for _, st := range allStatuses {
		for _, op := range allOps {
			c := inStatus(t, s, a, tmpl, st)
			at := now().Add(time.Hour)
			ch := axiom.CampaignChange{UpdatedAt: at}
			switch op {
			case axiom.OpUpdate:
				ch.Name = new("Renamed")
			case axiom.OpSchedule:
				ch.ScheduledAt = new(at.Add(time.Hour))
			case axiom.OpSend:
				ch.StartedAt = &at
			case axiom.OpCancel, axiom.OpFinish:
				ch.CompletedAt = &at
			}
			what := fmt.Sprintf("%s of a %s campaign", op, st)
			var (
				got axiom.Campaign
				err error
			)
			if op == axiom.OpDelete {
				err = s.DeleteCampaign(ctx, a.ID, c.ID)
			} else {
				got, err = s.ChangeCampaign(ctx, a.ID, c.ID, op, ch)
			}
			stored, gerr := s.GetCampaign(ctx, a.ID, c.ID)
			if !st.Allows(op) {
				wantError(t, what, err, axiom.CampaignStateError(c.ID, st, op))
				if gerr != nil || stored.Status != st || stored.Name != c.Name || !stored.UpdatedAt.Equal(c.UpdatedAt) {
					t.Errorf("%s, refused, changed it: %+v, %v", what, stored, gerr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			if op == axiom.OpDelete {
				if !errors.Is(gerr, axiom.ErrNotFound) {
					t.Errorf("%s: still there: %v", what, gerr)
				}
				continue
			}
			want := st
			if to := op.To(); to != "" {
				want = to
			}
			if got.Status != want || stored.Status != want || !got.UpdatedAt.Equal(at) || !stored.UpdatedAt.Equal(at) {
				t.Errorf("%s = %s (stored %s), updated %v; want %s, %v", what, got.Status, stored.Status, got.UpdatedAt, want, at)
			}
			switch {
			case ch.Name != nil && stored.Name != *ch.Name,
				ch.ScheduledAt != nil && (stored.ScheduledAt == nil || !stored.ScheduledAt.Equal(*ch.ScheduledAt)),
				ch.StartedAt != nil && (stored.StartedAt == nil || !stored.StartedAt.Equal(*ch.StartedAt)),
				ch.CompletedAt != nil && (stored.CompletedAt == nil || !stored.CompletedAt.Equal(*ch.CompletedAt)):
				t.Errorf("%s: stored %+v; want the change %+v", what, stored, ch)
			}
		}
	}
	_, err := s.ChangeCampaign(ctx, a.ID, "cmp_nope", axiom.OpSend, axiom.CampaignChange{})
	wantError(t, "send of a missing campaign", err, axiom.CampaignNotFound("cmp_nope"))
}

// A campaign through its life: scheduled, rescheduled, edited, sent, then
// cancelled and deleted; and one whose template went before its start.
func testCampaignLifeCycle(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Jane", Email: "jane@example.com"})
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	at := now().Add(time.Hour)
	sc, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSchedule, axiom.CampaignChange{ScheduledAt: &at, UpdatedAt: now()})
	if err != nil || sc.Status != axiom.CampaignScheduled || !sc.ScheduledAt.Equal(at) {
		t.Fatalf("schedule = %+v, %v", sc, err)
	}
	at2 := at.Add(time.Hour)
	if sc, err = s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSchedule, axiom.CampaignChange{ScheduledAt: &at2, UpdatedAt: now()}); err != nil || !sc.ScheduledAt.Equal(at2) {
		t.Fatalf("schedule again = %+v, %v", sc, err)
	}
	if _, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpUpdate, axiom.CampaignChange{Name: new("Scheduled"), UpdatedAt: now()}); err != nil {
		t.Errorf("update of a scheduled campaign: %v", err)
	}
	started := start(t, s, c)
	if started.Status != axiom.CampaignSending || started.StartedAt == nil || started.Counts.Recipients != 1 || !started.ScheduledAt.Equal(at2) {
		t.Fatalf("started = %+v", started)
	}
	cancelled, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()})
	if err != nil || cancelled.Status != axiom.CampaignCancelled || cancelled.CompletedAt == nil || cancelled.Counts.Recipients != 1 {
		t.Fatalf("cancel = %+v, %v", cancelled, err)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Errorf("DeleteCampaign of a cancelled campaign: %v", err)
	}

	// A template deleted before the start: the campaign cannot start.
	gone := createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: "gone-0000abcd", Name: "G", Subject: "S", Content: "C"})
	d := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "D", Template: gone.Slug})
	if err := s.DeleteTemplate(ctx, a.ID, gone.Slug, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = s.ChangeCampaign(ctx, a.ID, d.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: new(now()), UpdatedAt: now(), EnqueueUntil: new(now())})
	wantError(t, "send without its template", err, axiom.CampaignTemplateNotFound(gone.Slug))
	if got, _ := s.GetCampaign(ctx, a.ID, d.ID); got.Status != axiom.CampaignDraft || got.StartedAt != nil {
		t.Errorf("a refused send changed the campaign: %+v", got)
	}
	// The rules still come first.
	cancelled, err = s.ChangeCampaign(ctx, a.ID, d.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ChangeCampaign(ctx, a.ID, d.ID, axiom.OpSend, axiom.CampaignChange{StartedAt: new(now()), UpdatedAt: now()})
	wantError(t, "send of a cancelled campaign without its template", err, axiom.CampaignStateError(d.ID, axiom.CampaignCancelled, axiom.OpSend))
}

// Of concurrent sends of one campaign exactly one succeeds; the others
// find it sending.
func testCampaignConcurrentSends(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	a, tmpl := campaignSetup(t, s)
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			at := now()
			_, errs[i] = ss[i%len(ss)].ChangeCampaign(ctx, a.ID, c.ID, axiom.OpSend,
				axiom.CampaignChange{StartedAt: &at, UpdatedAt: at, EnqueueUntil: new(at.Add(hold))})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantError(t, "a concurrent send", err, axiom.CampaignStateError(c.ID, axiom.CampaignSending, axiom.OpSend))
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent sends succeeded; want exactly 1", ok, n)
	}
}

func testCampaignStartAudience(t *testing.T, s Store) {
	ctx := t.Context()
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
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: l.name, Email: fmt.Sprintf("%s%d@example.com", l.name, i),
			Type: l.typ, Status: l.status, Tags: l.tags})
		time.Sleep(time.Millisecond)
	}
	other, _ := campaignSetup(t, s)
	createLead(t, s, axiom.Lead{AccountID: other.ID, Name: "z", Email: "z@example.com", Type: "lead", Status: "active", Tags: []string{"buyer"}})
	for _, tc := range []struct {
		audience axiom.Audience
		want     []string
	}{
		{axiom.Audience{}, []string{"a", "b", "c", "d", "f"}},
		{axiom.Audience{Tags: []string{"buyer"}}, []string{"a", "b"}},
		{axiom.Audience{Tags: []string{"vip", "seller"}}, []string{"b", "c", "f"}},
		{axiom.Audience{Types: []string{"client"}}, []string{"b", "c"}},
		{axiom.Audience{Statuses: []string{"inactive"}}, []string{"c", "f"}},
		{axiom.Audience{Tags: []string{"vip"}, Statuses: []string{"active"}}, []string{"b"}},
		{axiom.Audience{Tags: []string{"buyer"}, Types: []string{"partner"}}, nil},
	} {
		c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: fmt.Sprint(tc.audience), Template: tmpl.Slug, Audience: tc.audience})
		started := start(t, s, c)
		ms := allMessages(t, s, c)
		var got []string
		for _, m := range ms {
			got = append(got, m.ToName)
			if m.CampaignID != c.ID || m.AccountID != a.ID || m.Status != axiom.MessageQueued || m.Attempts != 0 ||
				m.SentAt != nil || m.Error != "" || m.OpenToken == "" || m.UnsubscribeToken == "" || m.ID == "" {
				t.Errorf("message %+v", m)
			}
			checkStoreTime(t, "message CreatedAt", m.CreatedAt)
			if m.HTML != "" || m.Text != "" {
				t.Errorf("the listing carries a body: %+v", m)
			}
			full, err := s.GetMessage(ctx, a.ID, c.ID, m.ID)
			if err != nil || m.Subject != tmpl.Subject+" "+m.ToName || full.HTML != "<p>"+tmpl.Content+" "+m.ToName+"</p>" ||
				full.OpenToken != m.OpenToken || full.LegacyLinkTokens != nil {
				t.Errorf("message not as rendered: %+v, %v", full, err)
			}
			if _, err := s.GetMessage(ctx, other.ID, c.ID, m.ID); !errors.Is(err, axiom.ErrNotFound) {
				t.Errorf("another account's GetMessage: %v, want not found", err)
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

func testCampaignIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	b := newAccount(t, s)
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Mine", Template: tmpl.Slug})
	theirs := axiom.NewCampaign(b.ID, axiom.Campaign{Name: "Theirs", Template: tmpl.Slug}, time.Now())
	wantError(t, "another account's template", s.CreateCampaign(ctx, theirs), axiom.CampaignTemplateNotFound(tmpl.Slug))
	checks := map[string]error{}
	_, checks["Get"] = s.GetCampaign(ctx, b.ID, c.ID)
	for _, op := range allOps {
		if op != axiom.OpDelete {
			_, checks[string(op)] = s.ChangeCampaign(ctx, b.ID, c.ID, op, axiom.CampaignChange{Name: new("X"), UpdatedAt: now()})
		}
	}
	_, checks["Stats"] = s.CampaignStats(ctx, b.ID, c.ID)
	_, checks["ListMessages"] = s.ListMessages(ctx, b.ID, c.ID, axiom.Query{Page: 1, Limit: 10})
	checks["Delete"] = s.DeleteCampaign(ctx, b.ID, c.ID)
	for op, err := range checks {
		wantError(t, op+" of another account's campaign", err, axiom.CampaignNotFound(c.ID))
	}
	if page, err := s.ListCampaigns(ctx, b.ID, axiom.Query{Page: 1, Limit: 10}, ""); err != nil || len(page.Items) != 0 {
		t.Errorf("another account lists %+v, %v", page, err)
	}
	if got, err := s.GetCampaign(ctx, a.ID, c.ID); err != nil || got.Name != "Mine" || got.Status != axiom.CampaignDraft {
		t.Errorf("after another account's calls: %+v, %v", got, err)
	}
}

// sendingCampaign starts a campaign to n new leads.
func sendingCampaign(t *testing.T, s Store, n int) axiom.Campaign {
	t.Helper()
	a, tmpl := campaignSetup(t, s)
	for i := range n {
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	return start(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
}

// Accounts take turns in the outbox: a large account's backlog does not
// keep a small account's message waiting behind it.
func testOutboxTakesAccountsInTurn(t *testing.T, s Store) {
	ctx := t.Context()
	big := sendingCampaign(t, s, 40)
	small := sendingCampaign(t, s, 1)
	at := time.Now()
	ms, err := s.ClaimMessages(ctx, "wrk_fair", at, time.Minute, 4)
	if err != nil || len(ms) != 4 {
		t.Fatalf("ClaimMessages = %d, %v; want 4", len(ms), err)
	}
	counts := map[string]int{}
	for _, m := range ms {
		counts[m.CampaignID]++
	}
	if counts[small.ID] != 1 || counts[big.ID] != 3 {
		t.Fatalf("a claim of 4 took %v; want the small account's one message beside 3 of the large one's %d", counts, 40)
	}
	// Alone, an account has the whole claim.
	if ms, err := s.ClaimMessages(ctx, "wrk_fair", at, time.Minute, 10); err != nil || len(ms) != 10 {
		t.Fatalf("ClaimMessages of the large account alone = %d, %v; want 10", len(ms), err)
	}
}

// A finished campaign's message bodies are dropped after the retention
// period, once; metadata, tokens, links and statistics stay.
func testCompactMessages(t *testing.T, s Store) {
	ctx := t.Context()
	old := sendingCampaign(t, s, 3)
	recent := sendingCampaign(t, s, 2)
	at := now()
	for _, c := range []axiom.Campaign{old, recent} {
		done := at
		if c.ID == recent.ID {
			done = at.Add(time.Hour)
		}
		if _, err := s.ChangeCampaign(ctx, c.AccountID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &done, UpdatedAt: done}); err != nil {
			t.Fatal(err)
		}
	}
	before := allMessages(t, s, old)
	stats, _ := s.CampaignStats(ctx, old.AccountID, old.ID)
	if n, err := s.CompactMessages(ctx, at.Add(time.Minute), 2); err != nil || n != 3 {
		t.Fatalf("CompactMessages = %d, %v; want the 3 bodies of the campaign finished before", n, err)
	}
	for _, m := range before {
		got, err := s.GetMessage(ctx, old.AccountID, old.ID, m.ID)
		if err != nil || got.HTML != "" || got.Text != "" || got.OpenToken != m.OpenToken || got.To != m.To {
			t.Errorf("compacted message = %+v, %v; want its metadata and tokens without a body", got, err)
		}
		if url, err := s.ClickTarget(ctx, m.OpenToken, 1); err != nil || url != campaignLinks[1] {
			t.Errorf("a tracked link of a compacted message = %q, %v; want it to lead to %q still", url, err, campaignLinks[1])
		}
	}
	if st, err := s.CampaignStats(ctx, old.AccountID, old.ID); err != nil || st != stats {
		t.Errorf("stats after compaction = %+v, %v; want %+v", st, err, stats)
	}
	if n, err := s.CompactMessages(ctx, at.Add(time.Minute), 2); err != nil || n != 0 {
		t.Fatalf("CompactMessages again = %d, %v; want 0: the campaign is compacted", n, err)
	}
	for _, m := range allMessages(t, s, recent) {
		if got, err := s.GetMessage(ctx, recent.AccountID, recent.ID, m.ID); err != nil || got.HTML == "" {
			t.Errorf("a campaign finished after the cut lost its body: %+v, %v", got, err)
		}
	}
}

// SendUsage counts the messages of campaigns started in the window,
// suppressed records aside, and the account's leads.
func testSendUsage(t *testing.T, s Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 3)
	other := sendingCampaign(t, s, 5) // another account's
	used, oldest, leads, err := s.SendUsage(ctx, c.AccountID, time.Now().Add(-time.Hour))
	if err != nil || used != 3 || leads != 3 || c.StartedAt == nil || !oldest.Equal(*c.StartedAt) {
		t.Fatalf("SendUsage = %d, %v, %d, %v; want 3 messages, started %v, 3 leads", used, oldest, leads, err, c.StartedAt)
	}
	if used, _, _, err := s.SendUsage(ctx, c.AccountID, time.Now().Add(time.Hour)); err != nil || used != 0 {
		t.Fatalf("SendUsage after the campaign's start = %d, %v; want 0", used, err)
	}
	if used, _, leads, err := s.SendUsage(ctx, other.AccountID, time.Now().Add(-time.Hour)); err != nil || used != 5 || leads != 5 {
		t.Fatalf("SendUsage of the other account = %d, %d, %v; want 5, 5", used, leads, err)
	}
}

func testOutboxClaimsAreExclusive(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	c := sendingCampaign(t, s, 30)
	at := time.Now()
	const workers = 6
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for {
				ms, err := ss[w%len(ss)].ClaimMessages(ctx, fmt.Sprint("wrk_", w), at, time.Minute, 3)
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
					if m.Attempts != 1 || m.Status != axiom.MessageQueued || m.CampaignID != c.ID {
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

// The workers of the outbox tests.
const workerA, workerB, workerC = "wrk_A0000000000000000000001", "wrk_B0000000000000000000002", "wrk_C0000000000000000000003"

// A claim lasts while its worker renews it; once its worker stops, it runs
// out and another worker takes the message; only the holder records an
// outcome, and a retry frees the message until its retry time.
func testOutboxClaimsAndRetries(t *testing.T, s Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 3)
	at := now()
	ttl := 10 * time.Second
	first, err := s.ClaimMessages(ctx, workerA, at, ttl, 10)
	if err != nil || len(first) != 3 {
		t.Fatalf("ClaimMessages = %d, %v; want 3", len(first), err)
	}
	if again, err := s.ClaimMessages(ctx, workerB, at.Add(ttl-time.Millisecond), ttl, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim while A's claims last = %d, %v; want none", len(again), err)
	}
	// A's heartbeat renews its claims: they outlast the first end.
	ids := []string{first[0].ID, first[1].ID, first[2].ID, "msg_nope"}
	renewed := at.Add(ttl / 2).Add(ttl)
	held, err := s.RenewClaims(ctx, workerA, ids, renewed)
	if slices.Sort(held); err != nil || !slices.Equal(held, sortedIDs(first)) {
		t.Fatalf("RenewClaims = %v, %v; want the three claimed", held, err)
	}
	if held, err := s.RenewClaims(ctx, workerB, ids, renewed.Add(time.Hour)); err != nil || len(held) != 0 {
		t.Fatalf("RenewClaims by a worker holding none = %v, %v; want none", held, err)
	}
	if again, err := s.ClaimMessages(ctx, workerB, at.Add(ttl), ttl, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim after the first end, claims renewed = %d, %v; want none", len(again), err)
	}
	// A stops renewing (it died): at the end of its claims they are free.
	second, err := s.ClaimMessages(ctx, workerB, renewed, ttl, 10)
	if err != nil || len(second) != 3 {
		t.Fatalf("claim when A's claims ran out = %d, %v; want 3", len(second), err)
	}
	for _, m := range second {
		if m.Attempts != 2 {
			t.Errorf("attempts %d after two claims", m.Attempts)
		}
	}
	// A, back from the dead, can neither renew nor complete what B holds.
	if held, err := s.RenewClaims(ctx, workerA, ids, renewed.Add(time.Hour)); err != nil || len(held) != 0 {
		t.Fatalf("RenewClaims of claims taken over = %v, %v; want none", held, err)
	}
	t2 := renewed.Add(time.Second)
	for _, o := range []axiom.Outcome{{Status: axiom.MessageSent, At: t2}, {Status: axiom.MessageFailed, Error: "550", At: t2},
		{Status: axiom.MessageQueued, Error: "451", At: t2, Retry: t2}} {
		wantCode(t, "CompleteMessage("+string(o.Status)+") by the worker whose claim ran out",
			s.CompleteMessage(ctx, workerA, second[0].ID, o), axiom.CodeNotFound)
	}
	if got, _ := s.GetCampaign(ctx, c.AccountID, c.ID); got.Counts != (axiom.CampaignCounts{Recipients: 3}) {
		t.Fatalf("outcomes of a lost claim were recorded: %+v", got.Counts)
	}
	if err := s.CompleteMessage(ctx, workerB, second[0].ID, axiom.Outcome{Status: axiom.MessageSent, At: t2}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, workerB, second[1].ID, axiom.Outcome{Status: axiom.MessageFailed, Error: "550 no such user", At: t2}); err != nil {
		t.Fatal(err)
	}
	retry := t2.Add(time.Hour)
	if err := s.CompleteMessage(ctx, workerB, second[2].ID, axiom.Outcome{Status: axiom.MessageQueued, Error: "451 later", At: t2, Retry: retry}); err != nil {
		t.Fatal(err)
	}
	// Recorded once: a second outcome finds nothing held.
	wantCode(t, "CompleteMessage of a message sent", s.CompleteMessage(ctx, workerB, second[0].ID,
		axiom.Outcome{Status: axiom.MessageFailed, Error: "late", At: t2}), axiom.CodeNotFound)
	if ms, _ := s.ClaimMessages(ctx, workerC, retry.Add(-time.Millisecond), ttl, 10); len(ms) != 0 {
		t.Fatalf("claimed %d messages before their retry time", len(ms))
	}
	got, err := s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != axiom.CampaignSending || got.Counts != (axiom.CampaignCounts{Recipients: 3, Sent: 1, Failed: 1}) {
		t.Fatalf("campaign with one message to retry: %+v, %v", got, err)
	}
	ms := allMessages(t, s, c)
	byID := map[string]axiom.Message{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	if m := byID[second[0].ID]; m.Status != axiom.MessageSent || m.SentAt == nil || !m.SentAt.Equal(t2) {
		t.Errorf("sent message: %+v", m)
	}
	if m := byID[second[1].ID]; m.Status != axiom.MessageFailed || m.Error != "550 no such user" || m.SentAt != nil {
		t.Errorf("failed message: %+v", m)
	}
	if m := byID[second[2].ID]; m.Status != axiom.MessageQueued || m.Error != "451 later" {
		t.Errorf("message to retry: %+v", m)
	}
	// The retry is free for any worker at its time, whoever claimed it.
	last, err := s.ClaimMessages(ctx, workerC, retry, ttl, 10)
	if err != nil || len(last) != 1 || last[0].ID != second[2].ID || last[0].Attempts != 3 {
		t.Fatalf("claim at the retry time = %+v, %v", last, err)
	}
	wantCode(t, "CompleteMessage by the worker that retried it", s.CompleteMessage(ctx, workerB, last[0].ID,
		axiom.Outcome{Status: axiom.MessageSent, At: retry}), axiom.CodeNotFound)
	// Its lead unsubscribed meanwhile: suppressed, no longer a recipient,
	// and the campaign is done.
	done := retry.Add(time.Second)
	if err := s.CompleteMessage(ctx, workerC, last[0].ID, axiom.Outcome{Status: axiom.MessageSuppressed, Error: "The lead is unsubscribed", At: done}); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != axiom.CampaignSent || got.CompletedAt == nil || !got.CompletedAt.Equal(done) ||
		got.Counts != (axiom.CampaignCounts{Recipients: 2, Sent: 1, Failed: 1}) {
		t.Fatalf("campaign after its last message: %+v, %v", got, err)
	}
	if m := byMessageID(t, s, c, last[0].ID); m.Status != axiom.MessageSuppressed || m.Error != "The lead is unsubscribed" || m.SentAt != nil {
		t.Errorf("message suppressed at the last moment: %+v", m)
	}
	wantCode(t, "CompleteMessage(unknown)", s.CompleteMessage(ctx, workerC, "msg_nope", axiom.Outcome{Status: axiom.MessageSent, At: time.Now()}),
		axiom.CodeNotFound)
	if held, err := s.RenewClaims(ctx, workerC, nil, done); err != nil || len(held) != 0 {
		t.Errorf("RenewClaims of nothing = %v, %v", held, err)
	}
}

// byMessageID is the message id of campaign c.
func byMessageID(t *testing.T, s Store, c axiom.Campaign, id string) axiom.Message {
	t.Helper()
	for _, m := range allMessages(t, s, c) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no message %s in campaign %s", id, c.ID)
	return axiom.Message{}
}

// sortedIDs are the ids of ms, sorted.
func sortedIDs(ms []axiom.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	slices.Sort(out)
	return out
}

func testOutboxCancelAndFinish(t *testing.T, s Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 4)
	claimed, err := s.ClaimMessages(ctx, workerA, time.Now(), time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	if _, err := s.ChangeCampaign(ctx, c.AccountID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: new(now()), UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.ClaimMessages(ctx, workerB, time.Now().Add(time.Hour), time.Minute, 10); err != nil || len(ms) != 0 {
		t.Fatalf("claimed %d messages of a cancelled campaign, %v", len(ms), err)
	}
	// The message in flight when the campaign was cancelled is recorded.
	if err := s.CompleteMessage(ctx, workerA, claimed[0].ID, axiom.Outcome{Status: axiom.MessageSent, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st, err := s.CampaignStats(ctx, c.AccountID, c.ID)
	if err != nil || st.Recipients != 4 || st.Sent != 1 || st.Pending != 3 {
		t.Fatalf("stats of the cancelled campaign: %+v, %v", st, err)
	}
	if got, _ := s.GetCampaign(ctx, c.AccountID, c.ID); got.Status != axiom.CampaignCancelled {
		t.Fatalf("status %s; a cancelled campaign stays cancelled", got.Status)
	}

	// A campaign whose audience is empty finishes once wholly enqueued.
	a, tmpl := campaignSetup(t, s)
	empty := start(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Nobody", Template: tmpl.Slug}))
	if empty.Status != axiom.CampaignSending || empty.Counts.Recipients != 0 {
		t.Fatalf("started with nobody: %+v", empty)
	}
	at := now()
	n, err := s.FinishCampaigns(ctx, at)
	if err != nil || n != 1 {
		t.Fatalf("FinishCampaigns = %d, %v; want 1", n, err)
	}
	if got, _ := s.GetCampaign(ctx, a.ID, empty.ID); got.Status != axiom.CampaignSent || got.CompletedAt == nil || !got.CompletedAt.Equal(at) {
		t.Fatalf("after FinishCampaigns: %+v", got)
	}
	if n, err := s.FinishCampaigns(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("FinishCampaigns again = %d, %v; want 0", n, err)
	}
}

func testDueCampaigns(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	at := now()
	past, future := at.Add(-time.Minute), at.Add(time.Minute)
	due := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Due", Template: tmpl.Slug, ScheduledAt: &past})
	createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Later", Template: tmpl.Slug, ScheduledAt: &future})
	createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Draft", Template: tmpl.Slug})
	cancelled := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Cancelled", Template: tmpl.Slug, ScheduledAt: &past})
	if _, err := s.ChangeCampaign(ctx, a.ID, cancelled.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DueCampaigns(ctx, at, 10)
	if err != nil || len(got) != 1 || got[0].ID != due.ID || got[0].AccountID != a.ID {
		t.Fatalf("DueCampaigns = %+v, %v; want only %s", got, err, due.ID)
	}
	if got, _ := s.DueCampaigns(ctx, future, 10); len(got) != 2 {
		t.Fatalf("DueCampaigns at the later time = %d; want 2", len(got))
	}
	if got, _ := s.DueCampaigns(ctx, future, 1); len(got) != 1 || got[0].ID != due.ID {
		t.Fatalf("DueCampaigns of at most 1 = %+v; want the earliest", got)
	}
	start(t, s, due)
	if got, _ := s.DueCampaigns(ctx, at, 10); len(got) != 0 {
		t.Fatalf("a started campaign is still due: %+v", got)
	}
}

func testCampaignTracking(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 3 {
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	c := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug}))
	enqueue(t, s, c, "", 10, nil)
	ms := allMessages(t, s, c)
	at := now()
	// Checking a token (a HEAD of the link) answers as recording would, and counts nothing.
	if err := s.CheckOpen(ctx, ms[0].OpenToken); err != nil {
		t.Fatalf("CheckOpen: %v", err)
	}
	if url, err := s.ClickTarget(ctx, ms[0].OpenToken, 1); err != nil || url != campaignLinks[1] {
		t.Fatalf("ClickTarget = %q, %v; want %q", url, err, campaignLinks[1])
	}
	if st, err := s.CampaignStats(ctx, a.ID, c.ID); err != nil || st.Opens != 0 || st.Clicks != 0 {
		t.Fatalf("stats after checking tokens: %+v, %v; want no open and no click", st, err)
	}
	for _, tok := range []string{ms[0].OpenToken, ms[0].OpenToken, ms[1].OpenToken} {
		if err := s.RecordOpen(ctx, tok, at); err != nil {
			t.Fatalf("RecordOpen: %v", err)
		}
	}
	for _, k := range []struct {
		m        axiom.Message
		position int
	}{{ms[0], 0}, {ms[0], 1}, {ms[0], 0}, {ms[1], 1}} {
		url, err := s.RecordClick(ctx, k.m.OpenToken, k.position, at)
		if err != nil || url != campaignLinks[k.position] {
			t.Fatalf("RecordClick(%d) = %q, %v; want %q", k.position, url, err, campaignLinks[k.position])
		}
	}
	invalid := axiom.Errorf(axiom.CodeNotFound, "This link is not valid")
	for _, tok := range []string{"nope", ms[0].UnsubscribeToken} {
		wantError(t, "RecordOpen("+tok+")", s.RecordOpen(ctx, tok, at), invalid)
		_, err := s.RecordClick(ctx, tok, 0, at)
		wantError(t, "RecordClick("+tok+")", err, invalid)
		_, err = s.ClickTarget(ctx, tok, 0)
		wantError(t, "ClickTarget("+tok+")", err, invalid)
	}
	for _, tok := range []string{"nope", ms[0].UnsubscribeToken} {
		wantError(t, "CheckOpen("+tok+")", s.CheckOpen(ctx, tok), invalid)
	}
	// A position the campaign has no link at names nothing.
	for _, position := range []int{len(campaignLinks), -1, 1 << 40} {
		_, err := s.RecordClick(ctx, ms[0].OpenToken, position, at)
		wantError(t, fmt.Sprintf("RecordClick at position %d", position), err, invalid)
		_, err = s.ClickTarget(ctx, ms[0].OpenToken, position)
		wantError(t, fmt.Sprintf("ClickTarget at position %d", position), err, invalid)
	}
	// A message token is no link's own token.
	_, err := s.RecordLegacyClick(ctx, ms[0].OpenToken, at)
	wantError(t, "RecordLegacyClick(an open token)", err, invalid)
	_, err = s.LegacyClickTarget(ctx, ms[0].OpenToken)
	wantError(t, "LegacyClickTarget(an open token)", err, invalid)
	sup := func(m axiom.Message, accountID string) axiom.Suppression {
		t.Helper()
		sp, err := axiom.NewSuppression(accountID, m.To, axiom.SuppressUnsubscribed, "link", m.CampaignID, at)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	_, err = s.GetUnsubscription(ctx, "nope")
	wantError(t, "GetUnsubscription(unknown)", err, invalid)
	_, err = s.GetUnsubscription(ctx, ms[2].OpenToken)
	wantError(t, "GetUnsubscription(an open token)", err, invalid)
	wantError(t, "Unsubscribe(unknown)", s.Unsubscribe(ctx, "nope", sup(ms[2], a.ID)), invalid)
	wantError(t, "Unsubscribe(an open token)", s.Unsubscribe(ctx, ms[2].OpenToken, sup(ms[2], a.ID)), invalid)
	// A suppression of another account does not go with the token.
	other := newAccount(t, s)
	wantError(t, "Unsubscribe with another account's suppression", s.Unsubscribe(ctx, ms[2].UnsubscribeToken, sup(ms[2], other.ID)), invalid)
	if _, err := s.GetSuppression(ctx, other.ID, ms[2].To); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a refused unsubscribe suppressed the address in the other account: %v", err)
	}
	u, err := s.GetUnsubscription(ctx, ms[2].UnsubscribeToken)
	want := axiom.Unsubscription{AccountID: a.ID, CampaignID: c.ID, CampaignName: c.Name, LeadID: ms[2].LeadID, Email: ms[2].To}
	if err != nil || u != want {
		t.Fatalf("GetUnsubscription = %+v, %v; want %+v", u, err, want)
	}
	for range 2 {
		if err := s.Unsubscribe(ctx, ms[2].UnsubscribeToken, sup(ms[2], a.ID)); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
	}
	lead, err := s.GetLead(ctx, a.ID, ms[2].LeadID)
	if err != nil || lead.Status != axiom.LeadStatusUnsubscribed || !lead.UpdatedAt.Equal(at) {
		t.Fatalf("lead after Unsubscribe: %+v, %v", lead, err)
	}
	if got, err := s.GetSuppression(ctx, a.ID, ms[2].To); err != nil || got.Reason != axiom.SuppressUnsubscribed || got.CampaignID != c.ID {
		t.Fatalf("the suppression of the address unsubscribed: %+v, %v", got, err)
	}
	want.Unsubscribed = true
	if u, err := s.GetUnsubscription(ctx, ms[2].UnsubscribeToken); err != nil || u != want {
		t.Fatalf("GetUnsubscription after Unsubscribe = %+v, %v; want %+v", u, err, want)
	}
	// An address suppressed by the account reads unsubscribed too.
	manual, _ := axiom.NewSuppression(a.ID, strings.ToUpper(ms[0].To), axiom.SuppressManual, "", "", at)
	if _, _, err := s.AddSuppression(ctx, manual); err != nil {
		t.Fatal(err)
	}
	if u, err := s.GetUnsubscription(ctx, ms[0].UnsubscribeToken); err != nil || !u.Unsubscribed {
		t.Fatalf("GetUnsubscription of an address suppressed = %+v, %v", u, err)
	}
	// A lead deleted since: its message is erased, its link dead, its
	// counts kept, and its message, queued, is never sent.
	if err := s.DeleteLead(ctx, a.ID, ms[1].LeadID); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, ms[1].UnsubscribeToken, sup(ms[1], a.ID)); !errors.Is(err, axiom.ErrNotFound) {
		t.Fatalf("Unsubscribe through an erased message: %v; want not found", err)
	}
	st, err := s.CampaignStats(ctx, a.ID, c.ID)
	wantStats := axiom.CampaignStats{Recipients: 2, Pending: 2, Suppressed: 1, Opens: 3, UniqueOpens: 2, Clicks: 4, UniqueClicks: 2, Unsubscribes: 1}
	if err != nil || st != wantStats {
		t.Fatalf("CampaignStats = %+v, %v; want %+v", st, err, wantStats)
	}
	// Hits past axiom.MaxLinkHits are answered and not stored.
	for range axiom.MaxLinkHits + 5 {
		if err := s.RecordOpen(ctx, ms[2].OpenToken, at); err != nil {
			t.Fatalf("RecordOpen past the cap: %v", err)
		}
		if url, err := s.RecordClick(ctx, ms[2].OpenToken, 0, at); err != nil || url != campaignLinks[0] {
			t.Fatalf("RecordClick past the cap = %q, %v", url, err)
		}
	}
	if st, err = s.CampaignStats(ctx, a.ID, c.ID); err != nil ||
		st.Opens != 3+axiom.MaxLinkHits || st.UniqueOpens != 3 || st.Clicks != 4+axiom.MaxLinkHits || st.UniqueClicks != 3 {
		t.Fatalf("CampaignStats = %+v, %v; want %d opens of 3 messages, %d clicks of 3", st, err, 3+axiom.MaxLinkHits, 4+axiom.MaxLinkHits)
	}
	// The cap is per link: the message's other link still counts.
	if url, err := s.RecordClick(ctx, ms[2].OpenToken, 1, at); err != nil || url != campaignLinks[1] {
		t.Fatalf("RecordClick of another link = %q, %v", url, err)
	}
	if st, err = s.CampaignStats(ctx, a.ID, c.ID); err != nil || st.Clicks != 5+axiom.MaxLinkHits {
		t.Fatalf("CampaignStats = %+v, %v; want %d clicks: the cap is per message and link", st, err, 5+axiom.MaxLinkHits)
	}
	_, err = s.CampaignStats(ctx, a.ID, "cmp_nope")
	wantError(t, "CampaignStats(unknown)", err, axiom.CampaignNotFound("cmp_nope"))
	// The next campaign leaves the unsubscribed lead out.
	next := start(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Next", Template: tmpl.Slug}))
	if next.Counts.Recipients != 1 {
		t.Fatalf("the next campaign has %d recipients; want 1", next.Counts.Recipients)
	}
	// Deleting the campaign deletes its messages, links and events.
	if _, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCampaign(ctx, a.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	wantError(t, "RecordOpen after the campaign's deletion", s.RecordOpen(ctx, ms[0].OpenToken, at), invalid)
	_, err = s.RecordClick(ctx, ms[0].OpenToken, 0, at)
	wantError(t, "RecordClick after the campaign's deletion", err, invalid)
	if urls, err := s.CampaignLinks(ctx, a.ID, c.ID); err != nil || len(urls) != 0 {
		t.Errorf("CampaignLinks after the campaign's deletion = %v, %v; want none", urls, err)
	}
	wantError(t, "Unsubscribe after the campaign's deletion", s.Unsubscribe(ctx, ms[0].UnsubscribeToken, sup(ms[0], a.ID)), invalid)
	wantCode(t, "CompleteMessage after the campaign's deletion",
		s.CompleteMessage(ctx, workerA, ms[0].ID, axiom.Outcome{Status: axiom.MessageSent, At: at}), axiom.CodeNotFound)
	// The suppressions outlive the campaign that made them.
	if got, err := s.GetSuppression(ctx, a.ID, ms[2].To); err != nil || got.CampaignID != c.ID {
		t.Errorf("the suppression after its campaign's deletion: %+v, %v", got, err)
	}
}

// A campaign stores the targets of its tracked links once, by position,
// whatever its audience; each message's links are its open token and a
// position, and lead only to the targets of the message's own campaign.
func testCampaignLinks(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	for i := range 3 {
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	if urls, err := s.CampaignLinks(ctx, a.ID, c.ID); err != nil || len(urls) != 0 {
		t.Fatalf("CampaignLinks of a draft = %v, %v; want none", urls, err)
	}
	c = start(t, s, c)
	// Saving again, as a resumed enqueuer does, changes nothing.
	if err := s.SaveCampaignLinks(ctx, c.ID, campaignLinks); err != nil {
		t.Fatalf("SaveCampaignLinks again: %v", err)
	}
	if urls, err := s.CampaignLinks(ctx, a.ID, c.ID); err != nil || !slices.Equal(urls, campaignLinks) {
		t.Fatalf("CampaignLinks = %v, %v; want %v", urls, err, campaignLinks)
	}
	if urls, err := s.CampaignLinks(ctx, newAccount(t, s).ID, c.ID); err != nil || len(urls) != 0 {
		t.Errorf("another account's CampaignLinks = %v, %v; want none", urls, err)
	}
	if err := s.SaveCampaignLinks(ctx, c.ID, nil); err != nil {
		t.Errorf("SaveCampaignLinks of a template without links: %v", err)
	}
	// Many links: each stored once, for every message.
	many := make([]string, 1200)
	for i := range many {
		many[i] = fmt.Sprintf("https://example.com/p/%d", i)
	}
	big := send(t, s, createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "Big", Template: tmpl.Slug}))
	if err := s.SaveCampaignLinks(ctx, big.ID, many); err != nil {
		t.Fatalf("SaveCampaignLinks of %d links: %v", len(many), err)
	}
	enqueue(t, s, big, "", 10, nil)
	if urls, err := s.CampaignLinks(ctx, a.ID, big.ID); err != nil || len(urls) != len(many) || urls[0] != campaignLinks[0] || urls[len(urls)-1] != many[len(many)-1] {
		t.Fatalf("CampaignLinks = %d, %v; want the %d saved, the first saved kept", len(urls), err, len(many))
	}
	bigMessages := allMessages(t, s, big)
	for _, m := range bigMessages {
		for _, position := range []int{2, len(many) - 1} {
			if url, err := s.ClickTarget(ctx, m.OpenToken, position); err != nil || url != many[position] {
				t.Errorf("ClickTarget(%s, %d) = %q, %v; want %q", m.ID, position, url, err, many[position])
			}
		}
		if _, err := s.ClickTarget(ctx, m.OpenToken, len(many)); !errors.Is(err, axiom.ErrNotFound) {
			t.Errorf("ClickTarget past the last link = %v; want not found", err)
		}
	}
	// A message's token reaches its own campaign's links only.
	small := allMessages(t, s, c)
	if url, err := s.ClickTarget(ctx, small[0].OpenToken, 1); err != nil || url != campaignLinks[1] {
		t.Errorf("ClickTarget of the first campaign = %q, %v; want %q", url, err, campaignLinks[1])
	}
	if _, err := s.ClickTarget(ctx, small[0].OpenToken, 2); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("ClickTarget at a position only another campaign has = %v; want not found", err)
	}
}

// A send takes one snapshot of the campaign's template, which later edits
// and deletion of the template leave alone; a message stores its merge
// values (nil for a body stored rendered, as before snapshots), and
// compaction drops them with the snapshot.
func testCampaignSnapshot(t *testing.T, s Store) {
	ctx := t.Context()
	a, tmpl := campaignSetup(t, s)
	other, _ := campaignSetup(t, s)
	for i := range 3 {
		createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprint(i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	c := createCampaign(t, s, axiom.Campaign{AccountID: a.ID, Name: "C", Template: tmpl.Slug})
	if _, err := s.CampaignContent(ctx, a.ID, c.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Fatalf("CampaignContent before the send: %v; want not found", err)
	}
	c = send(t, s, c)
	edited := "<p>Edited {{name}}</p>"
	if _, err := s.UpdateTemplate(ctx, a.ID, tmpl.Slug, axiom.TemplatePatch{Content: &edited}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTemplate(ctx, a.ID, tmpl.Slug, time.Now()); err != nil {
		t.Fatal(err)
	}
	snap, err := s.CampaignContent(ctx, a.ID, c.ID)
	if err != nil || snap.Subject != tmpl.Subject || snap.Content != tmpl.Content {
		t.Fatalf("CampaignContent after the template's edit and deletion = %+v, %v; want it as sent (%q, %q)", snap, err, tmpl.Subject, tmpl.Content)
	}
	if _, err := s.CampaignContent(ctx, other.ID, c.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Fatalf("CampaignContent of another account's campaign: %v; want not found", err)
	}
	leads, err := s.AudienceLeads(ctx, a.ID, "", 10)
	if err != nil || len(leads) != 3 {
		t.Fatalf("AudienceLeads = %d, %v", len(leads), err)
	}
	merges := []map[string]string{{"name": "Jane <b>", "custom.x": "1"}, {}, nil}
	var ms []axiom.Message
	for i, l := range leads {
		m := render(c, tmpl, l)
		if merges[i] != nil {
			m.HTML, m.Text = "", ""
		}
		m.Merge = merges[i]
		ms = append(ms, m)
	}
	if err := s.EnqueueMessages(ctx, c.ID, ms, leads[2].ID, now().Add(hold)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishEnqueue(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		got, err := s.GetMessage(ctx, a.ID, c.ID, m.ID)
		if err != nil || (got.Merge == nil) != (merges[i] == nil) || fmt.Sprint(got.Merge) != fmt.Sprint(merges[i]) ||
			got.HTML != m.HTML || got.OpenToken != m.OpenToken {
			t.Errorf("message %d = %+v, %v; want merge values %v and body %q as queued", i, got, err, merges[i], m.HTML)
		}
	}
	for _, m := range allMessages(t, s, c) {
		if m.Merge != nil || m.HTML != "" {
			t.Errorf("the listing read the merge values or the body of %s: %+v", m.ID, m)
		}
	}
	claimed, err := s.ClaimMessages(ctx, "wrk_snap", time.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("ClaimMessages = %d, %v", len(claimed), err)
	}
	for _, m := range claimed {
		if i := slices.IndexFunc(ms, func(q axiom.Message) bool { return q.ID == m.ID }); fmt.Sprint(m.Merge) != fmt.Sprint(merges[i]) || (m.Merge == nil) != (merges[i] == nil) {
			t.Errorf("claimed message %s has merge values %v; want %v", m.ID, m.Merge, merges[i])
		}
	}
	done := now()
	if _, err := s.ChangeCampaign(ctx, a.ID, c.ID, axiom.OpCancel, axiom.CampaignChange{CompletedAt: &done, UpdatedAt: done}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CompactMessages(ctx, done.Add(time.Minute), 10); err != nil || n != 3 {
		t.Fatalf("CompactMessages = %d, %v; want 3", n, err)
	}
	for _, m := range ms {
		if got, err := s.GetMessage(ctx, a.ID, c.ID, m.ID); err != nil || got.Merge != nil || got.HTML != "" {
			t.Errorf("compacted message = %+v, %v; want no merge values and no body", got, err)
		}
	}
	if _, err := s.CampaignContent(ctx, a.ID, c.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CampaignContent after compaction: %v; want not found", err)
	}
}

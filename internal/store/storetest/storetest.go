// Package storetest is the behaviour every backend of the store must show,
// as one suite each backend's tests run unchanged.
package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes it at the end of the subtest.
func Run(t *testing.T, open func(t *testing.T) Store) { run(t, open, nil) }

// ordering picks the cases whose results depend on how text compares:
// sorting, paging, searching, grouping and counting by text.
var ordering = regexp.MustCompile(`Sort|List|Pagination|Search|Stats|Period|CountLeads|Filters`)

// RunOrdering is Run restricted to the cases ordering picks, for a
// database whose collation differs from the one Run is usually given.
func RunOrdering(t *testing.T, open func(t *testing.T) Store) { run(t, open, ordering) }

// run runs the cases whose names only matches (every case for nil).
func run(t *testing.T, open func(t *testing.T) Store, only *regexp.Regexp) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Ping", testPing},
		{"Accounts", testAccounts},
		{"Bootstrap", testBootstrap},
		{"BootstrapWithAccounts", testBootstrapWithAccounts},
		{"Keys", testKeys},
		{"LeadCRUD", testLeadCRUD},
		{"LeadPatch", testLeadPatch},
		{"LeadTimestamps", testLeadTimestamps},
		{"LeadTextReadsBack", testLeadTextReadsBack},
		{"LeadIsolation", testLeadIsolation},
		{"LeadDuplicateEmail", testLeadDuplicateEmail},
		{"LeadPagination", testLeadPagination},
		{"LeadSort", testLeadSort},
		{"LeadSearch", testLeadSearch},
		{"LeadSearchFollowsChanges", testLeadSearchFollowsChanges},
		{"InvalidQuery", testInvalidQuery},
		{"TemplateCRUD", testTemplateCRUD},
		{"TemplateIsolation", testTemplateIsolation},
		{"TemplateSlugNeverReused", testTemplateSlugNeverReused},
		{"TemplateSort", testTemplateSort},
	}
	tests = append(tests, idempotencyTests...)
	tests = append(tests, propertyTests...)
	tests = append(tests, analyticsTests...)
	tests = append(tests, campaignTests...)
	tests = append(tests, enqueueTests...)
	tests = append(tests, datasetTests...)
	tests = append(tests, suppressionTests...)
	tests = append(tests, erasureTests...)
	for _, tc := range sharedTests {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, s Store)
		}{tc.name, func(t *testing.T, s Store) { tc.fn(t, []Store{s}) }})
	}
	ran := 0
	for _, tc := range tests {
		if only != nil && !only.MatchString(tc.name) {
			continue
		}
		ran++
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
	if ran == 0 {
		t.Fatalf("no case of the store suite matches %v", only)
	}
}

// sharedTests are the cases of concurrent calls: Run makes them through
// one store, RunShared through several sharing one database, as servers do.
var sharedTests = []struct {
	name string
	fn   func(t *testing.T, ss []Store)
}{
	{"BootstrapConcurrent", testBootstrapConcurrent},
	{"LeadConcurrentCreates", testLeadConcurrentCreates},
	{"LeadConcurrentPatches", testLeadConcurrentPatches},
	{"LeadCountsUnderConcurrentChanges", testLeadCountsUnderConcurrentChanges},
	{"CampaignConcurrentSends", testCampaignConcurrentSends},
	{"OutboxClaimsAreExclusive", testOutboxClaimsAreExclusive},
	{"ClaimEnqueueConcurrent", testClaimEnqueueConcurrent},
	{"IdempotencyConcurrentClaims", testIdempotencyConcurrentClaims},
	{"ResetIsWholeToReaders", testResetIsWholeToReaders},
}

// RunShared runs the cases of concurrent calls through several stores on
// one database, each call through one of them in turn, as servers sharing
// a database make them. open must return at least two new stores on one
// new, empty database; RunShared closes them at the end of the subtest.
func RunShared(t *testing.T, open func(t *testing.T) []Store) {
	for _, tc := range sharedTests {
		t.Run(tc.name, func(t *testing.T) {
			ss := open(t)
			if len(ss) < 2 {
				t.Fatalf("RunShared needs several stores; open gave %d", len(ss))
			}
			t.Cleanup(func() {
				for _, s := range ss {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tc.fn(t, ss)
		})
	}
}

// now is the time of a call, as records keep it.
func now() time.Time { return axiom.StoreTime(time.Now()) }

// wantError checks that err is, or wraps, the *axiom.Error want: the same
// code and the same message.
func wantError(t *testing.T, what string, err error, want *axiom.Error) {
	t.Helper()
	got, ok := errors.AsType[*axiom.Error](err)
	if !ok || got.Code != want.Code || got.Message != want.Message {
		t.Errorf("%s: error %v; want %v", what, err, want)
	}
}

// wantCode checks that err is an *axiom.Error of code c.
func wantCode(t *testing.T, what string, err error, c axiom.ErrorCode) {
	t.Helper()
	if err == nil || axiom.ErrorCodeOf(err) != c {
		t.Errorf("%s: error %v; want one of code %s", what, err, c)
	}
}

func newAccount(t *testing.T, s Store) axiom.Account {
	t.Helper()
	a := axiom.NewAccount(axiom.PlanProfessional, time.Now())
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

// createLead stores l as a new lead of l.AccountID, made now.
func createLead(t *testing.T, s Store, l axiom.Lead) axiom.Lead {
	t.Helper()
	l = axiom.NewLead(l.AccountID, l, time.Now())
	if err := s.CreateLead(t.Context(), l); err != nil {
		t.Fatalf("CreateLead(%s, %s): %v", l.Name, l.Email, err)
	}
	return l
}

// fullLead is a lead with every field set.
func fullLead(accountID string) axiom.Lead {
	return axiom.Lead{
		AccountID:    accountID,
		Name:         "John Smith",
		Email:        "john.smith@acme.com",
		Phone:        "+11234567890",
		Company:      "Acme Corp",
		Type:         "lead",
		Status:       "active",
		Source:       "website",
		Tags:         []string{"buyer", "residential"},
		Notes:        []string{"Called on Monday", "Wants a visit"},
		CustomFields: map[string]string{"budget": "500k", "area": "north"},
	}
}

// sameLead reports how got differs from want, or "".
func sameLead(got, want axiom.Lead) string {
	var diffs []string
	if !got.CreatedAt.Equal(want.CreatedAt) {
		diffs = append(diffs, fmt.Sprintf("CreatedAt %v, want %v", got.CreatedAt, want.CreatedAt))
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		diffs = append(diffs, fmt.Sprintf("UpdatedAt %v, want %v", got.UpdatedAt, want.UpdatedAt))
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		diffs = append(diffs, fmt.Sprintf("got %+v\nwant %+v", got, want))
	}
	return strings.Join(diffs, "; ")
}

func checkLead(t *testing.T, what string, got, want axiom.Lead) {
	t.Helper()
	if d := sameLead(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// checkStoreTime checks that ts is a store time: UTC, whole milliseconds.
func checkStoreTime(t *testing.T, what string, ts time.Time) {
	t.Helper()
	if ts.Location() != time.UTC || ts.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s = %v: not UTC in whole milliseconds", what, ts)
	}
}

func ids(leads []axiom.Lead) []string {
	out := make([]string, len(leads))
	for i, l := range leads {
		out[i] = l.ID
	}
	return out
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testAccounts(t *testing.T, s Store) {
	ctx := t.Context()
	// A time with more than milliseconds, in another zone: stored as a
	// store time.
	at := time.Date(2025, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("X", 3600))
	a := axiom.Account{ID: axiom.NewID(axiom.PrefixAccount, at), Plan: axiom.PlanStarter, CreatedAt: at}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil || got.ID != a.ID || got.Plan != a.Plan || !got.CreatedAt.Equal(axiom.StoreTime(at)) {
		t.Errorf("GetAccount = %+v, %v; want %+v at %v", got, err, a, axiom.StoreTime(at))
	}
	checkStoreTime(t, "account CreatedAt", got.CreatedAt)
	b := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := s.CreateAccount(ctx, b); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if got, err := s.GetAccount(ctx, b.ID); err != nil || got.Plan != axiom.PlanEnterprise || !got.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("GetAccount = %+v, %v; want %+v", got, err, b)
	}
	if err := s.CreateAccount(ctx, b); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("CreateAccount of a taken id: error = %v; want ErrDuplicate", err)
	}
	if _, err := s.GetAccount(ctx, "acc_0000000000000000000000"); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("GetAccount(unknown) error = %v; want ErrNotFound", err)
	}
}

// newBootstrap is a first account and its key.
func newBootstrap() (axiom.Account, axiom.Key, string) {
	a := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	k, secret := axiom.NewKey(a.ID, "bootstrap", false, time.Now())
	return a, k, secret
}

func testBootstrap(t *testing.T, s Store) {
	ctx := t.Context()
	a, k, secret := newBootstrap()
	done, err := s.Bootstrap(ctx, a, k)
	if err != nil || !done {
		t.Fatalf("Bootstrap of an empty database = %v, %v; want true", done, err)
	}
	gotKey, gotAcc, err := s.KeyByHash(ctx, axiom.HashSecret(secret))
	if err != nil || gotKey.ID != k.ID || gotAcc.ID != a.ID || gotAcc.Plan != a.Plan || !gotAcc.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("the bootstrap key = %+v, %+v, %v; want %s of %s", gotKey, gotAcc, err, k.ID, a.ID)
	}
	b, bk, _ := newBootstrap()
	if done, err := s.Bootstrap(ctx, b, bk); err != nil || done {
		t.Errorf("Bootstrap again = %v, %v; want false", done, err)
	}
	if _, err := s.GetAccount(ctx, b.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("the second bootstrap stored its account: %v", err)
	}
	keys, err := s.ListKeys(ctx, "")
	if err != nil || len(keys) != 1 {
		t.Errorf("ListKeys = %d keys, %v; want the bootstrap's", len(keys), err)
	}
}

func testBootstrapConcurrent(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	const n = 20
	accounts := make([]axiom.Account, n)
	done := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		a, k, _ := newBootstrap()
		accounts[i] = a
		wg.Go(func() {
			<-start
			done[i], errs[i] = ss[i%len(ss)].Bootstrap(ctx, a, k)
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Bootstrap %d: %v", i, errs[i])
		}
		_, err := s.GetAccount(ctx, accounts[i].ID)
		if stored := err == nil; stored != done[i] {
			t.Errorf("Bootstrap %d reported %v; its account stored: %v (%v)", i, done[i], stored, err)
		}
		if done[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent bootstraps stored their account; want exactly 1", winners, n)
	}
	if keys, err := s.ListKeys(ctx, ""); err != nil || len(keys) != 1 {
		t.Errorf("ListKeys = %d keys, %v; want 1", len(keys), err)
	}
}

func testBootstrapWithAccounts(t *testing.T, s Store) {
	ctx := t.Context()
	existing := newAccount(t, s)
	a, k, _ := newBootstrap()
	if done, err := s.Bootstrap(ctx, a, k); err != nil || done {
		t.Errorf("Bootstrap of a database with an account = %v, %v; want false", done, err)
	}
	if _, err := s.GetAccount(ctx, a.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("Bootstrap stored its account beside %s: %v", existing.ID, err)
	}
	if keys, err := s.ListKeys(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("ListKeys = %d keys, %v; want none", len(keys), err)
	}
}

func testKeys(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)

	k1, secret := axiom.NewKey(a.ID, "ci", true, time.Now())
	if err := s.CreateKey(ctx, k1); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	gotKey, gotAcc, err := s.KeyByHash(ctx, axiom.HashSecret(secret))
	if err != nil {
		t.Fatalf("KeyByHash: %v", err)
	}
	if gotKey.ID != k1.ID || gotKey.AccountID != a.ID || !gotKey.ReadOnly || gotKey.Name != "ci" ||
		gotKey.Hint != k1.Hint || !slices.Equal(gotKey.Hash, k1.Hash) || !gotKey.CreatedAt.Equal(k1.CreatedAt) || gotKey.RevokedAt != nil {
		t.Errorf("KeyByHash key = %+v; want %+v", gotKey, k1)
	}
	checkStoreTime(t, "key CreatedAt", gotKey.CreatedAt)
	if gotAcc.ID != a.ID || gotAcc.Plan != a.Plan || !gotAcc.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("KeyByHash account = %+v; want %+v", gotAcc, a)
	}
	if _, _, err := s.KeyByHash(ctx, axiom.HashSecret("axm_unknown")); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("KeyByHash(unknown) error = %v; want ErrNotFound", err)
	}

	k2, _ := axiom.NewKey(a.ID, "deploy", false, time.Now())
	if err := s.CreateKey(ctx, k2); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	k3, _ := axiom.NewKey(b.ID, "other", false, time.Now())
	if err := s.CreateKey(ctx, k3); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	keyIDs := func(keys []axiom.Key) []string {
		var out []string
		for _, k := range keys {
			out = append(out, k.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, tc := range []struct {
		account string
		want    []string
	}{
		{a.ID, sorted(k1.ID, k2.ID)},
		{b.ID, sorted(k3.ID)},
		{"", sorted(k1.ID, k2.ID, k3.ID)},
		{"acc_0000000000000000000000", nil},
	} {
		keys, err := s.ListKeys(ctx, tc.account)
		if err != nil || !slices.Equal(keyIDs(keys), tc.want) {
			t.Errorf("ListKeys(%q) = %v, %v; want %v", tc.account, keyIDs(keys), err, tc.want)
		}
	}

	dup := k2
	dup.ID = axiom.NewID(axiom.PrefixKey, time.Now())
	if err := s.CreateKey(ctx, dup); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("CreateKey with a taken hash: error = %v; want ErrDuplicate", err)
	}
	dup, _ = axiom.NewKey(a.ID, "same id", false, time.Now())
	dup.ID = k1.ID
	if err := s.CreateKey(ctx, dup); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("CreateKey with a taken id: error = %v; want ErrDuplicate", err)
	}
	orphan, _ := axiom.NewKey("acc_0000000000000000000000", "orphan", false, time.Now())
	if err := s.CreateKey(ctx, orphan); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CreateKey for an unknown account: error = %v; want ErrNotFound", err)
	}

	revoked := now()
	if err := s.RevokeKey(ctx, k1.ID, revoked); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if err := s.RevokeKey(ctx, k1.ID, revoked.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeKey again: %v", err)
	}
	gotKey, _, err = s.KeyByHash(ctx, axiom.HashSecret(secret))
	if err != nil {
		t.Fatalf("KeyByHash of a revoked key: %v", err)
	}
	if gotKey.RevokedAt == nil || !gotKey.RevokedAt.Equal(revoked) {
		t.Fatalf("revoked key RevokedAt = %v; want the first revocation's %v", gotKey.RevokedAt, revoked)
	}
	keys, err := s.ListKeys(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	for _, k := range keys {
		if (k.RevokedAt != nil) != (k.ID == k1.ID) {
			t.Errorf("ListKeys: key %s RevokedAt = %v", k.ID, k.RevokedAt)
		}
	}
	if err := s.RevokeKey(ctx, "key_0000000000000000000000", now()); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("RevokeKey(unknown) error = %v; want ErrNotFound", err)
	}
}

func testLeadCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	want := createLead(t, s, fullLead(a.ID))
	stored, err := s.GetLead(ctx, a.ID, want.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	checkLead(t, "GetLead", stored, want)

	// A lead with only a name and an email has empty, not nil, collections.
	bare := axiom.NewLead(a.ID, axiom.Lead{Name: "Bare", Email: "bare@example.com"}, time.Now())
	bare.Tags, bare.Notes, bare.CustomFields = nil, nil, nil
	if err := s.CreateLead(ctx, bare); err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	stored, err = s.GetLead(ctx, a.ID, bare.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	if stored.Tags == nil || stored.Notes == nil || stored.CustomFields == nil || len(stored.Tags)+len(stored.Notes)+len(stored.CustomFields) != 0 {
		t.Errorf("GetLead of a bare lead: tags %#v, notes %#v, custom fields %#v; want empty, not nil",
			stored.Tags, stored.Notes, stored.CustomFields)
	}

	if err := s.DeleteLead(ctx, a.ID, want.ID); err != nil {
		t.Fatalf("DeleteLead: %v", err)
	}
	_, err = s.GetLead(ctx, a.ID, want.ID)
	wantError(t, "GetLead after delete", err, axiom.LeadNotFound(want.ID))
	wantError(t, "DeleteLead twice", s.DeleteLead(ctx, a.ID, want.ID), axiom.LeadNotFound(want.ID))
	_, err = s.UpdateLead(ctx, a.ID, want.ID, axiom.LeadPatch{Name: new("X")}, time.Now())
	wantError(t, "UpdateLead after delete", err, axiom.LeadNotFound(want.ID))
	page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil || !slices.Equal(ids(page.Items), []string{bare.ID}) || page.HasMore {
		t.Errorf("ListLeads after delete = %v, more %v, %v; want [%s]", ids(page.Items), page.HasMore, err, bare.ID)
	}
	orphan := axiom.NewLead("acc_0000000000000000000000", axiom.Lead{Name: "X", Email: "x@example.com"}, time.Now())
	if err := s.CreateLead(ctx, orphan); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CreateLead for an unknown account: error = %v; want ErrNotFound", err)
	}
}

func testLeadPatch(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	orig := createLead(t, s, fullLead(a.ID))

	update := func(p axiom.LeadPatch, want axiom.Lead) axiom.Lead {
		t.Helper()
		at := time.Now()
		got, err := s.UpdateLead(ctx, a.ID, orig.ID, p, at)
		if err != nil {
			t.Fatalf("UpdateLead: %v", err)
		}
		want.UpdatedAt = axiom.StoreTime(at)
		checkLead(t, "UpdateLead", got, want)
		stored, err := s.GetLead(ctx, a.ID, orig.ID)
		if err != nil {
			t.Fatalf("GetLead: %v", err)
		}
		checkLead(t, "GetLead after UpdateLead", stored, want)
		return got
	}

	// No field set: nothing changes but the update time.
	cur := update(axiom.LeadPatch{}, orig)

	want := cur
	want.Name = "Johnny Smith"
	cur = update(axiom.LeadPatch{Name: new("Johnny Smith")}, want)

	// Empty collections clear; nil ones are kept.
	want = cur
	want.Tags, want.CustomFields = []string{}, map[string]string{}
	cur = update(axiom.LeadPatch{Tags: &[]string{}, CustomFields: &map[string]string{}}, want)

	want = axiom.Lead{
		ID: orig.ID, AccountID: a.ID, Name: "Jo Smith", Email: "jo@smith.example", Phone: "+441234",
		Company: "Smith & Co", Type: "client", Status: "inactive", Source: "referral",
		Tags: []string{"seller"}, Notes: []string{}, CustomFields: map[string]string{"k": "v"},
		CreatedAt: orig.CreatedAt,
	}
	update(axiom.LeadPatch{
		Name: &want.Name, Email: &want.Email, Phone: &want.Phone, Company: &want.Company,
		Type: &want.Type, Status: &want.Status, Source: &want.Source,
		Tags: &want.Tags, Notes: &want.Notes, CustomFields: &want.CustomFields,
	}, want)

	// Fields may be set to "".
	want.Phone, want.Company = "", ""
	update(axiom.LeadPatch{Phone: new(""), Company: new("")}, want)
}

func testLeadTimestamps(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	// Times with more than milliseconds, in another zone, are stored and
	// read back as store times.
	created := time.Date(2025, 6, 7, 8, 9, 10, 123_456_789, time.FixedZone("Y", -5*3600))
	l := axiom.NewLead(a.ID, fullLead(a.ID), created)
	l.CreatedAt, l.UpdatedAt = created, created.Add(time.Microsecond)
	if err := s.CreateLead(ctx, l); err != nil {
		t.Fatalf("CreateLead: %v", err)
	}
	got, err := s.GetLead(ctx, a.ID, l.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	if !got.CreatedAt.Equal(axiom.StoreTime(created)) || !got.UpdatedAt.Equal(axiom.StoreTime(created)) {
		t.Errorf("stored times %v, %v; want %v", got.CreatedAt, got.UpdatedAt, axiom.StoreTime(created))
	}
	checkStoreTime(t, "CreatedAt", got.CreatedAt)
	checkStoreTime(t, "UpdatedAt", got.UpdatedAt)
	at := created.Add(time.Hour + 987654321)
	u, err := s.UpdateLead(ctx, a.ID, l.ID, axiom.LeadPatch{Status: new("won")}, at)
	if err != nil {
		t.Fatalf("UpdateLead: %v", err)
	}
	if !u.CreatedAt.Equal(got.CreatedAt) || !u.UpdatedAt.Equal(axiom.StoreTime(at)) {
		t.Errorf("UpdateLead times = %v, %v; want %v, %v", u.CreatedAt, u.UpdatedAt, got.CreatedAt, axiom.StoreTime(at))
	}
	if got, err := s.GetLead(ctx, a.ID, l.ID); err != nil {
		t.Fatalf("GetLead: %v", err)
	} else {
		checkLead(t, "GetLead after UpdateLead", got, u)
		checkStoreTime(t, "stored UpdatedAt", got.UpdatedAt)
	}
}

func testLeadIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	l := createLead(t, s, fullLead(a.ID))

	_, err := s.GetLead(ctx, b.ID, l.ID)
	wantError(t, "GetLead from another account", err, axiom.LeadNotFound(l.ID))
	_, err = s.UpdateLead(ctx, b.ID, l.ID, axiom.LeadPatch{Name: new("Mallory")}, time.Now())
	wantError(t, "UpdateLead from another account", err, axiom.LeadNotFound(l.ID))
	wantError(t, "DeleteLead from another account", s.DeleteLead(ctx, b.ID, l.ID), axiom.LeadNotFound(l.ID))
	for _, search := range []string{"", "john"} {
		page, err := s.ListLeads(ctx, b.ID, axiom.Query{Page: 1, Limit: 10, Search: search})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("ListLeads(search %q) of another account = %v, %v; want none", search, ids(page.Items), err)
		}
	}
	if leads, err := s.AudienceLeads(ctx, b.ID, "", 10); err != nil || len(leads) != 0 {
		t.Errorf("AudienceLeads of another account = %v, %v; want none", ids(leads), err)
	}
	got, err := s.GetLead(ctx, a.ID, l.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	checkLead(t, "lead after another account's attempts", got, l)

	// The same email may be used by another account.
	other := fullLead(b.ID)
	other.Email = strings.ToUpper(l.Email)
	bl := createLead(t, s, other)
	page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Search: "john"})
	if err != nil || !slices.Equal(ids(page.Items), []string{l.ID}) {
		t.Errorf("ListLeads of the first account = %v, %v; want [%s]", ids(page.Items), err, l.ID)
	}
	page, err = s.ListLeads(ctx, b.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil || !slices.Equal(ids(page.Items), []string{bl.ID}) {
		t.Errorf("ListLeads of the second account = %v, %v; want [%s]", ids(page.Items), err, bl.ID)
	}
}

func testLeadDuplicateEmail(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	jane := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Jane", Email: "Jane.Doe@Example.com"})
	for _, email := range []string{"Jane.Doe@Example.com", "jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"} {
		err := s.CreateLead(ctx, axiom.NewLead(a.ID, axiom.Lead{Name: "Copy", Email: email}, time.Now()))
		wantError(t, "CreateLead("+email+")", err, axiom.DuplicateEmail(email))
	}
	other := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Other", Email: "other@example.com"})
	_, err := s.UpdateLead(ctx, a.ID, other.ID, axiom.LeadPatch{Email: new("jane.DOE@example.COM"), Name: new("Renamed")}, time.Now())
	wantError(t, "UpdateLead to a taken email", err, axiom.DuplicateEmail("jane.DOE@example.COM"))
	if got, err := s.GetLead(ctx, a.ID, other.ID); err != nil {
		t.Fatalf("GetLead: %v", err)
	} else {
		checkLead(t, "lead after a refused update", got, other)
	}
	// A lead may change the case of its own email.
	if got, err := s.UpdateLead(ctx, a.ID, jane.ID, axiom.LeadPatch{Email: new("JANE.DOE@example.com")}, time.Now()); err != nil || got.Email != "JANE.DOE@example.com" {
		t.Errorf("UpdateLead to the same email in another case = %q, %v", got.Email, err)
	}
	// A deleted lead's email is free again.
	if err := s.DeleteLead(ctx, a.ID, jane.ID); err != nil {
		t.Fatalf("DeleteLead: %v", err)
	}
	createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Jane again", Email: "jane.doe@example.com"})
	page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil || len(page.Items) != 2 {
		t.Errorf("ListLeads = %d leads, %v; want 2", len(page.Items), err)
	}
}

func testLeadConcurrentCreates(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	a := newAccount(t, s)
	const n = 100
	run := func(email func(i int) string) (ok, dup int, others []error) {
		var (
			mu    sync.Mutex
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i := range n {
			wg.Go(func() {
				<-start
				err := ss[i%len(ss)].CreateLead(ctx, axiom.NewLead(a.ID, axiom.Lead{Name: fmt.Sprintf("Racer %d", i), Email: email(i)}, time.Now()))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, axiom.ErrDuplicate):
					dup++
				default:
					others = append(others, err)
				}
			})
		}
		close(start)
		wg.Wait()
		return ok, dup, others
	}

	ok, dup, others := run(func(i int) string {
		if i%2 == 0 {
			return "race@example.com"
		}
		return "RACE@example.com"
	})
	if ok != 1 || dup != n-1 || len(others) != 0 {
		t.Errorf("%d concurrent creates of one email: %d succeeded, %d duplicates, other errors %v; want 1 and %d",
			n, ok, dup, others, n-1)
	}
	ok, dup, others = run(func(i int) string { return fmt.Sprintf("racer%d@example.com", i) })
	if ok != n || dup != 0 || len(others) != 0 {
		t.Errorf("%d concurrent creates of distinct emails: %d succeeded, %d duplicates, other errors %v; want all",
			n, ok, dup, others)
	}
	seen := map[string]bool{}
	for p := 1; ; p++ {
		page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: p, Limit: 100})
		if err != nil {
			t.Fatalf("ListLeads: %v", err)
		}
		for _, l := range page.Items {
			seen[l.ID] = true
		}
		if !page.HasMore {
			break
		}
	}
	if len(seen) != n+1 {
		t.Errorf("the account has %d distinct leads; want %d", len(seen), n+1)
	}
}

// Concurrent patches of one lead, each of another field, all stay: each
// applies to the result of the one before, none to a stale read.
func testLeadConcurrentPatches(t *testing.T, ss []Store) {
	ctx, s := t.Context(), ss[0]
	a := newAccount(t, s)
	l := createLead(t, s, fullLead(a.ID))
	const rounds = 5
	for round := range rounds {
		v := fmt.Sprint("round", round)
		patches := []axiom.LeadPatch{
			{Name: new("Name " + v)}, {Phone: new("+1" + fmt.Sprint(round))}, {Company: new("Company " + v)},
			{Type: new("type-" + v)}, {Status: new("status-" + v)}, {Source: new("source-" + v)},
			{Tags: &[]string{v}}, {Notes: &[]string{v}}, {CustomFields: &map[string]string{"round": v}},
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, p := range patches {
			wg.Go(func() {
				<-start
				if _, err := ss[i%len(ss)].UpdateLead(ctx, a.ID, l.ID, p, time.Now()); err != nil {
					t.Errorf("UpdateLead: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		got, err := s.GetLead(ctx, a.ID, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := l
		for _, p := range patches {
			want = p.Apply(want, time.Now())
		}
		want.UpdatedAt = got.UpdatedAt
		checkLead(t, "lead after concurrent patches of "+v, got, want)
	}
}

// listAll pages through every lead of q's account with limit, checking the
// page invariants, and returns the leads in order.
func listAll(t *testing.T, s Store, accountID string, q axiom.Query) []axiom.Lead {
	t.Helper()
	var all []axiom.Lead
	for q.Page = 1; q.Page < 1000; q.Page++ {
		page, err := s.ListLeads(t.Context(), accountID, q)
		if err != nil {
			t.Fatalf("ListLeads(%+v): %v", q, err)
		}
		if len(page.Items) > q.Limit {
			t.Fatalf("ListLeads(%+v) returned %d leads", q, len(page.Items))
		}
		if page.HasMore && len(page.Items) != q.Limit {
			t.Fatalf("ListLeads(%+v): a page with more after it holds %d leads", q, len(page.Items))
		}
		all = append(all, page.Items...)
		if !page.HasMore {
			return all
		}
	}
	t.Fatalf("ListLeads(%+v) never ends", q)
	return nil
}

func testLeadPagination(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	const n = 25
	want := map[string]bool{}
	for i := range n {
		l := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: fmt.Sprintf("Lead %02d", i), Email: fmt.Sprintf("lead%02d@example.com", i)})
		want[l.ID] = true
	}
	for _, tc := range []struct {
		limit int
		sizes []int
		more  []bool
	}{
		{10, []int{10, 10, 5, 0}, []bool{true, true, false, false}},
		{5, []int{5, 5, 5, 5, 5, 0}, []bool{true, true, true, true, false, false}},
		{24, []int{24, 1}, []bool{true, false}},
		{25, []int{25, 0}, []bool{false, false}},
		{100, []int{25}, []bool{false}},
	} {
		seen := map[string]bool{}
		for i, size := range tc.sizes {
			q := axiom.Query{Page: i + 1, Limit: tc.limit, Sort: "name"}
			page, err := s.ListLeads(ctx, a.ID, q)
			if err != nil {
				t.Fatalf("ListLeads(%+v): %v", q, err)
			}
			if len(page.Items) != size || page.HasMore != tc.more[i] {
				t.Errorf("ListLeads(%+v) = %d leads, more %v; want %d, %v", q, len(page.Items), page.HasMore, size, tc.more[i])
			}
			for _, l := range page.Items {
				if seen[l.ID] {
					t.Errorf("ListLeads(%+v): lead %s was on an earlier page", q, l.ID)
				}
				seen[l.ID] = true
			}
		}
		if !maps.Equal(seen, want) {
			t.Errorf("limit %d: the pages hold %d of the %d leads", tc.limit, len(seen), n)
		}
	}
}

func testInvalidQuery(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	createLead(t, s, fullLead(a.ID))
	for _, q := range []axiom.Query{
		{Page: 1, Limit: 10, Sort: "bogus"},
		{Page: 1, Limit: 10, Sort: "name; DROP TABLE leads"},
		{Page: 1, Limit: 10, Sort: "phone"},
		{Page: 0, Limit: 10},
		{Page: 1, Limit: 0},
		{Page: 0, Limit: 10, Search: "john"},
		{Page: 1, Limit: 10, Sort: "bogus", Search: "john"},
	} {
		_, err := s.ListLeads(ctx, a.ID, q)
		wantCode(t, fmt.Sprintf("ListLeads(%+v)", q), err, axiom.CodeInvalidParameter)
	}
	for _, q := range []axiom.Query{
		{Page: 1, Limit: 10, Sort: "email"},
		{Page: 1, Limit: 10, Sort: "slug; --"},
		{Page: -1, Limit: 10},
		{Page: 1, Limit: -5},
	} {
		_, err := s.ListTemplates(ctx, a.ID, q)
		wantCode(t, fmt.Sprintf("ListTemplates(%+v)", q), err, axiom.CodeInvalidParameter)
		_, err = s.ListCampaigns(ctx, a.ID, q, "")
		wantCode(t, fmt.Sprintf("ListCampaigns(%+v)", q), err, axiom.CodeInvalidParameter)
	}
	if page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10}); err != nil || len(page.Items) != 1 {
		t.Errorf("ListLeads after the invalid queries = %d leads, %v; want 1", len(page.Items), err)
	}
}

// RunReopen checks that what a store holds outlives it: open must open
// the same database, empty the first time, every time it is called.
// RunReopen closes each store it opens.
func RunReopen(t *testing.T, open func(t *testing.T) Store) {
	ctx := t.Context()
	s := open(t)
	a, k, _ := newBootstrap()
	if done, err := s.Bootstrap(ctx, a, k); err != nil || !done {
		t.Fatalf("Bootstrap = %v, %v", done, err)
	}
	lead := createLead(t, s, axiom.Lead{AccountID: a.ID, Name: "Kept Lead", Email: "kept@example.com", Tags: []string{"durable"}})
	tmpl := createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: "kept-00000000", Name: "Kept", Subject: "S", Content: "C"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Reopening applies no migration twice and finds the data, search
	// index included.
	for range 2 {
		s = open(t)
		got, err := s.GetLead(ctx, a.ID, lead.ID)
		if err != nil {
			t.Fatalf("GetLead after reopening: %v", err)
		}
		checkLead(t, "GetLead after reopening", got, lead)
		page, err := s.ListLeads(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Search: "dura"})
		if err != nil || !slices.Equal(ids(page.Items), []string{lead.ID}) {
			t.Errorf("search after reopening = %v, %v; want the lead", ids(page.Items), err)
		}
		copied := axiom.NewLead(a.ID, axiom.Lead{Name: "Copy", Email: "KEPT@example.com"}, time.Now())
		if err := s.CreateLead(ctx, copied); !errors.Is(err, axiom.ErrDuplicate) {
			t.Errorf("duplicate email after reopening: error = %v; want ErrDuplicate", err)
		}
		if err := s.CreateTemplate(ctx, tmpl); !errors.Is(err, axiom.ErrDuplicate) {
			t.Errorf("a used slug after reopening: error = %v; want ErrDuplicate", err)
		}
		b, bk, _ := newBootstrap()
		if done, err := s.Bootstrap(ctx, b, bk); err != nil || done {
			t.Errorf("Bootstrap after reopening = %v, %v; want false", done, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// testLeadTextReadsBack stores text that JSON must escape, or that the
// database's JSON functions could alter, in every field, and reads it back
// unchanged through each way a lead is read (get, list, search, a
// listing's leads).
func testLeadTextReadsBack(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	odd := "Zoë \"Q\" O'Neil \\ <b>&amp;</b>\ttab\nline 😀 \u2028 \u00e9e\u0301"
	l := createLead(t, s, axiom.Lead{
		AccountID: a.ID, Name: odd, Email: "zoe.oneil@example.com", Phone: "+1 (555) \"0\"", Company: odd,
		Source: "web\\form", Tags: []string{odd, "[", "]", "{", "\"", ","}, Notes: []string{odd, "", "null"},
		CustomFields: map[string]string{odd: odd, "\"": "\\", "empty": "", "json": `{"a":[1]}`},
	})
	check := func(how string, got axiom.Lead, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Errorf("%s = %+v, %v; want %+v", how, got, err, l)
		}
	}
	got, err := s.GetLead(ctx, a.ID, l.ID)
	check("GetLead", got, err)
	for _, q := range []axiom.Query{{Page: 1, Limit: 10}, {Page: 1, Limit: 10, Search: "oneil"}} {
		p, err := s.ListLeads(ctx, a.ID, q)
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("ListLeads(%+v) = %d, %v", q, len(p.Items), err)
		}
		check(fmt.Sprintf("ListLeads(%+v)", q), p.Items[0], nil)
	}
}

// Package storetest is the behaviour every store.Store backend must show,
// as one suite each backend's tests run unchanged.
package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called, with its default settings (idempotency keys kept 24 hours); Run
// closes it at the end of the subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"Accounts", testAccounts},
		{"Keys", testKeys},
		{"LeadCRUD", testLeadCRUD},
		{"LeadPatch", testLeadPatch},
		{"LeadTimestamps", testLeadTimestamps},
		{"LeadIsolation", testLeadIsolation},
		{"LeadDuplicateEmail", testLeadDuplicateEmail},
		{"LeadConcurrentCreates", testLeadConcurrentCreates},
		{"LeadPagination", testLeadPagination},
		{"LeadSort", testLeadSort},
		{"LeadSearch", testLeadSearch},
		{"LeadSearchFollowsChanges", testLeadSearchFollowsChanges},
		{"InvalidQuery", testInvalidQuery},
		{"TemplateCRUD", testTemplateCRUD},
		{"TemplateIsolation", testTemplateIsolation},
		{"TemplateSlugNeverReused", testTemplateSlugNeverReused},
		{"TemplateSort", testTemplateSort},
		{"Idempotency", testIdempotency},
	}
	tests = append(tests, campaignTests...)
	for _, tc := range tests {
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
}

// window is the span of time a store call ran in, to check the times it
// stamps records with.
type window struct{ from, to time.Time }

func begin() window { return window{from: time.Now().Truncate(time.Millisecond)} }

func (w window) end() window { w.to = time.Now(); return w }

// checkTime checks that ts is a store time (UTC, whole milliseconds) taken
// within w.
func checkTime(t *testing.T, what string, ts time.Time, w window) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Errorf("%s = %v: not UTC", what, ts)
	}
	if ts.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s = %v: not whole milliseconds", what, ts)
	}
	if ts.Before(w.from) || ts.After(w.to) {
		t.Errorf("%s = %v: not within [%v, %v]", what, ts, w.from, w.to)
	}
}

func newAccount(t *testing.T, s store.Store) store.Account {
	t.Helper()
	a, err := s.CreateAccount(t.Context(), store.PlanProfessional)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

func createLead(t *testing.T, s store.Store, l store.Lead) store.Lead {
	t.Helper()
	got, err := s.CreateLead(t.Context(), l)
	if err != nil {
		t.Fatalf("CreateLead(%s, %s): %v", l.Name, l.Email, err)
	}
	return got
}

// fullLead is a lead with every field set.
func fullLead(accountID string) store.Lead {
	return store.Lead{
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
func sameLead(got, want store.Lead) string {
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

func checkLead(t *testing.T, what string, got, want store.Lead) {
	t.Helper()
	if d := sameLead(got, want); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

func ids(leads []store.Lead) []string {
	out := make([]string, len(leads))
	for i, l := range leads {
		out[i] = l.ID
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n, err := s.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts of a new store = %d, %v; want 0", n, err)
	}
	w := begin()
	a, err := s.CreateAccount(ctx, store.PlanStarter)
	w = w.end()
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if !strings.HasPrefix(a.ID, "acc_") || a.Plan != store.PlanStarter {
		t.Errorf("CreateAccount = %+v; want an acc_ id and plan starter", a)
	}
	checkTime(t, "account CreatedAt", a.CreatedAt, w)
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil || got.ID != a.ID || got.Plan != a.Plan || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("GetAccount = %+v, %v; want %+v", got, err, a)
	}
	b, err := s.CreateAccount(ctx, store.PlanEnterprise)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if b.ID == a.ID {
		t.Errorf("two accounts share id %s", a.ID)
	}
	if got, err := s.GetAccount(ctx, b.ID); err != nil || got.Plan != store.PlanEnterprise {
		t.Errorf("GetAccount = %+v, %v; want plan enterprise", got, err)
	}
	if n, err := s.CountAccounts(ctx); err != nil || n != 2 {
		t.Errorf("CountAccounts = %d, %v; want 2", n, err)
	}
	if _, err := s.GetAccount(ctx, "acc_0000000000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount(unknown) error = %v; want ErrNotFound", err)
	}
}

func testKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	newKey := func(accountID, name string) (string, store.Key) {
		secret, hash, hint := store.NewSecret()
		return secret, store.Key{ID: store.NewID("key_", time.Now()), AccountID: accountID, Name: name, Hash: hash, Hint: hint}
	}

	secret, k := newKey(a.ID, "ci")
	k.ReadOnly = true
	w := begin()
	k1, err := s.CreateKey(ctx, k)
	w = w.end()
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	checkTime(t, "key CreatedAt", k1.CreatedAt, w)
	if k1.ID != k.ID || k1.AccountID != a.ID || k1.Name != "ci" || !k1.ReadOnly || k1.Hint != k.Hint ||
		!slices.Equal(k1.Hash, k.Hash) || k1.RevokedAt != nil {
		t.Errorf("CreateKey = %+v; want %+v", k1, k)
	}

	gotKey, gotAcc, err := s.KeyByHash(ctx, store.HashSecret(secret))
	if err != nil {
		t.Fatalf("KeyByHash: %v", err)
	}
	if gotKey.ID != k1.ID || gotKey.AccountID != a.ID || !gotKey.ReadOnly || gotKey.Name != "ci" ||
		gotKey.Hint != k1.Hint || !slices.Equal(gotKey.Hash, k1.Hash) || !gotKey.CreatedAt.Equal(k1.CreatedAt) || gotKey.RevokedAt != nil {
		t.Errorf("KeyByHash key = %+v; want %+v", gotKey, k1)
	}
	if gotAcc.ID != a.ID || gotAcc.Plan != a.Plan || !gotAcc.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("KeyByHash account = %+v; want %+v", gotAcc, a)
	}
	if _, _, err := s.KeyByHash(ctx, store.HashSecret("axm_unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyByHash(unknown) error = %v; want ErrNotFound", err)
	}

	_, k = newKey(a.ID, "deploy")
	k2, err := s.CreateKey(ctx, k)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	_, k = newKey(b.ID, "other")
	k3, err := s.CreateKey(ctx, k)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	keyIDs := func(keys []store.Key) []string {
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
	dup.ID = store.NewID("key_", time.Now())
	if _, err := s.CreateKey(ctx, dup); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("CreateKey with a taken hash: error = %v; want ErrDuplicate", err)
	}
	_, k = newKey("acc_0000000000000000000000", "orphan")
	if _, err := s.CreateKey(ctx, k); err == nil {
		t.Errorf("CreateKey for an unknown account succeeded")
	}

	w = begin()
	if err := s.RevokeKey(ctx, k1.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	w = w.end()
	gotKey, _, err = s.KeyByHash(ctx, store.HashSecret(secret))
	if err != nil {
		t.Fatalf("KeyByHash of a revoked key: %v", err)
	}
	if gotKey.RevokedAt == nil {
		t.Fatalf("revoked key has no RevokedAt")
	}
	checkTime(t, "RevokedAt", *gotKey.RevokedAt, w)
	keys, err := s.ListKeys(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	for _, k := range keys {
		if (k.RevokedAt != nil) != (k.ID == k1.ID) {
			t.Errorf("ListKeys: key %s RevokedAt = %v", k.ID, k.RevokedAt)
		}
	}
	if err := s.RevokeKey(ctx, "key_0000000000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeKey(unknown) error = %v; want ErrNotFound", err)
	}
}

func testLeadCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	in := fullLead(a.ID)
	got := createLead(t, s, in)
	if !strings.HasPrefix(got.ID, "cnt_") {
		t.Errorf("lead id %q lacks the cnt_ prefix", got.ID)
	}
	want := in
	want.ID, want.CreatedAt, want.UpdatedAt = got.ID, got.CreatedAt, got.UpdatedAt
	checkLead(t, "CreateLead", got, want)
	stored, err := s.GetLead(ctx, a.ID, got.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	checkLead(t, "GetLead", stored, want)

	// A lead with only a name and an email has empty, not nil, collections.
	bare := createLead(t, s, store.Lead{AccountID: a.ID, Name: "Bare", Email: "bare@example.com"})
	stored, err = s.GetLead(ctx, a.ID, bare.ID)
	if err != nil {
		t.Fatalf("GetLead: %v", err)
	}
	for what, l := range map[string]store.Lead{"CreateLead": bare, "GetLead": stored} {
		if l.Tags == nil || l.Notes == nil || l.CustomFields == nil || len(l.Tags)+len(l.Notes)+len(l.CustomFields) != 0 {
			t.Errorf("%s of a bare lead: tags %#v, notes %#v, custom fields %#v; want empty, not nil",
				what, l.Tags, l.Notes, l.CustomFields)
		}
	}
	if bare.ID == got.ID {
		t.Errorf("two leads share id %s", got.ID)
	}

	if err := s.DeleteLead(ctx, a.ID, got.ID); err != nil {
		t.Fatalf("DeleteLead: %v", err)
	}
	if _, err := s.GetLead(ctx, a.ID, got.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetLead after delete: error = %v; want ErrNotFound", err)
	}
	if err := s.DeleteLead(ctx, a.ID, got.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteLead twice: error = %v; want ErrNotFound", err)
	}
	if _, err := s.UpdateLead(ctx, a.ID, got.ID, store.LeadPatch{Name: ptr("X")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateLead after delete: error = %v; want ErrNotFound", err)
	}
	page, err := s.ListLeads(ctx, a.ID, store.Query{Page: 1, Limit: 10})
	if err != nil || !slices.Equal(ids(page.Leads), []string{bare.ID}) || page.HasMore {
		t.Errorf("ListLeads after delete = %v, more %v, %v; want [%s]", ids(page.Leads), page.HasMore, err, bare.ID)
	}
	if _, err := s.CreateLead(ctx, store.Lead{AccountID: "acc_0000000000000000000000", Name: "X", Email: "x@example.com"}); err == nil {
		t.Errorf("CreateLead for an unknown account succeeded")
	}
}

func testLeadPatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	orig := createLead(t, s, fullLead(a.ID))

	update := func(p store.LeadPatch, want store.Lead) store.Lead {
		t.Helper()
		got, err := s.UpdateLead(ctx, a.ID, orig.ID, p)
		if err != nil {
			t.Fatalf("UpdateLead: %v", err)
		}
		want.UpdatedAt = got.UpdatedAt
		checkLead(t, "UpdateLead", got, want)
		stored, err := s.GetLead(ctx, a.ID, orig.ID)
		if err != nil {
			t.Fatalf("GetLead: %v", err)
		}
		checkLead(t, "GetLead after UpdateLead", stored, want)
		return got
	}

	// No field set: nothing changes but the update time.
	cur := update(store.LeadPatch{}, orig)

	want := cur
	want.Name = "Johnny Smith"
	cur = update(store.LeadPatch{Name: ptr("Johnny Smith")}, want)

	// Empty collections clear; nil ones are kept.
	want = cur
	want.Tags, want.CustomFields = []string{}, map[string]string{}
	cur = update(store.LeadPatch{Tags: &[]string{}, CustomFields: &map[string]string{}}, want)

	want = store.Lead{
		ID: orig.ID, AccountID: a.ID, Name: "Jo Smith", Email: "jo@smith.example", Phone: "+441234",
		Company: "Smith & Co", Type: "client", Status: "inactive", Source: "referral",
		Tags: []string{"seller"}, Notes: []string{}, CustomFields: map[string]string{"k": "v"},
		CreatedAt: orig.CreatedAt,
	}
	update(store.LeadPatch{
		Name: &want.Name, Email: &want.Email, Phone: &want.Phone, Company: &want.Company,
		Type: &want.Type, Status: &want.Status, Source: &want.Source,
		Tags: &want.Tags, Notes: &want.Notes, CustomFields: &want.CustomFields,
	}, want)

	// Fields may be set to "".
	want.Phone, want.Company = "", ""
	update(store.LeadPatch{Phone: ptr(""), Company: ptr("")}, want)
}

func testLeadTimestamps(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	w := begin()
	l := createLead(t, s, fullLead(a.ID))
	w = w.end()
	checkTime(t, "CreatedAt", l.CreatedAt, w)
	if !l.UpdatedAt.Equal(l.CreatedAt) {
		t.Errorf("new lead: UpdatedAt %v != CreatedAt %v", l.UpdatedAt, l.CreatedAt)
	}
	if got, err := s.GetLead(ctx, a.ID, l.ID); err != nil {
		t.Fatalf("GetLead: %v", err)
	} else {
		checkTime(t, "stored CreatedAt", got.CreatedAt, w)
		checkLead(t, "GetLead", got, l)
	}
	time.Sleep(2 * time.Millisecond) // so that the update falls in a later millisecond
	w = begin()
	u, err := s.UpdateLead(ctx, a.ID, l.ID, store.LeadPatch{Status: ptr("won")})
	w = w.end()
	if err != nil {
		t.Fatalf("UpdateLead: %v", err)
	}
	checkTime(t, "UpdatedAt", u.UpdatedAt, w)
	if !u.CreatedAt.Equal(l.CreatedAt) {
		t.Errorf("UpdateLead changed CreatedAt from %v to %v", l.CreatedAt, u.CreatedAt)
	}
	if !u.UpdatedAt.After(l.UpdatedAt) {
		t.Errorf("UpdatedAt %v is not after the previous %v", u.UpdatedAt, l.UpdatedAt)
	}
}

func testLeadIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	l := createLead(t, s, fullLead(a.ID))

	if _, err := s.GetLead(ctx, b.ID, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetLead from another account: error = %v; want ErrNotFound", err)
	}
	if _, err := s.UpdateLead(ctx, b.ID, l.ID, store.LeadPatch{Name: ptr("Mallory")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateLead from another account: error = %v; want ErrNotFound", err)
	}
	if err := s.DeleteLead(ctx, b.ID, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteLead from another account: error = %v; want ErrNotFound", err)
	}
	for _, search := range []string{"", "john"} {
		page, err := s.ListLeads(ctx, b.ID, store.Query{Page: 1, Limit: 10, Search: search})
		if err != nil || len(page.Leads) != 0 {
			t.Errorf("ListLeads(search %q) of another account = %v, %v; want none", search, ids(page.Leads), err)
		}
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
	page, err := s.ListLeads(ctx, a.ID, store.Query{Page: 1, Limit: 10, Search: "john"})
	if err != nil || !slices.Equal(ids(page.Leads), []string{l.ID}) {
		t.Errorf("ListLeads of the first account = %v, %v; want [%s]", ids(page.Leads), err, l.ID)
	}
	page, err = s.ListLeads(ctx, b.ID, store.Query{Page: 1, Limit: 10})
	if err != nil || !slices.Equal(ids(page.Leads), []string{bl.ID}) {
		t.Errorf("ListLeads of the second account = %v, %v; want [%s]", ids(page.Leads), err, bl.ID)
	}
}

func testLeadDuplicateEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	jane := createLead(t, s, store.Lead{AccountID: a.ID, Name: "Jane", Email: "Jane.Doe@Example.com"})
	for _, email := range []string{"Jane.Doe@Example.com", "jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"} {
		if _, err := s.CreateLead(ctx, store.Lead{AccountID: a.ID, Name: "Copy", Email: email}); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("CreateLead(%s): error = %v; want ErrDuplicate", email, err)
		}
	}
	other := createLead(t, s, store.Lead{AccountID: a.ID, Name: "Other", Email: "other@example.com"})
	if _, err := s.UpdateLead(ctx, a.ID, other.ID, store.LeadPatch{Email: ptr("jane.DOE@example.COM"), Name: ptr("Renamed")}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("UpdateLead to a taken email: error = %v; want ErrDuplicate", err)
	}
	if got, err := s.GetLead(ctx, a.ID, other.ID); err != nil {
		t.Fatalf("GetLead: %v", err)
	} else {
		checkLead(t, "lead after a refused update", got, other)
	}
	// A lead may change the case of its own email.
	if got, err := s.UpdateLead(ctx, a.ID, jane.ID, store.LeadPatch{Email: ptr("JANE.DOE@example.com")}); err != nil || got.Email != "JANE.DOE@example.com" {
		t.Errorf("UpdateLead to the same email in another case = %q, %v", got.Email, err)
	}
	// A deleted lead's email is free again.
	if err := s.DeleteLead(ctx, a.ID, jane.ID); err != nil {
		t.Fatalf("DeleteLead: %v", err)
	}
	createLead(t, s, store.Lead{AccountID: a.ID, Name: "Jane again", Email: "jane.doe@example.com"})
	page, err := s.ListLeads(ctx, a.ID, store.Query{Page: 1, Limit: 10})
	if err != nil || len(page.Leads) != 2 {
		t.Errorf("ListLeads = %d leads, %v; want 2", len(page.Leads), err)
	}
}

func testLeadConcurrentCreates(t *testing.T, s store.Store) {
	ctx := t.Context()
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
				_, err := s.CreateLead(ctx, store.Lead{AccountID: a.ID, Name: fmt.Sprintf("Racer %d", i), Email: email(i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrDuplicate):
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
		page, err := s.ListLeads(ctx, a.ID, store.Query{Page: p, Limit: 100})
		if err != nil {
			t.Fatalf("ListLeads: %v", err)
		}
		for _, l := range page.Leads {
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

// listAll pages through every lead of q's account with limit, checking the
// page invariants, and returns the leads in order.
func listAll(t *testing.T, s store.Store, accountID string, q store.Query) []store.Lead {
	t.Helper()
	var all []store.Lead
	for q.Page = 1; q.Page < 1000; q.Page++ {
		page, err := s.ListLeads(t.Context(), accountID, q)
		if err != nil {
			t.Fatalf("ListLeads(%+v): %v", q, err)
		}
		if len(page.Leads) > q.Limit {
			t.Fatalf("ListLeads(%+v) returned %d leads", q, len(page.Leads))
		}
		if page.HasMore && len(page.Leads) != q.Limit {
			t.Fatalf("ListLeads(%+v): a page with more after it holds %d leads", q, len(page.Leads))
		}
		all = append(all, page.Leads...)
		if !page.HasMore {
			return all
		}
	}
	t.Fatalf("ListLeads(%+v) never ends", q)
	return nil
}

func testLeadPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	const n = 25
	want := map[string]bool{}
	for i := range n {
		l := createLead(t, s, store.Lead{AccountID: a.ID, Name: fmt.Sprintf("Lead %02d", i), Email: fmt.Sprintf("lead%02d@example.com", i)})
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
			q := store.Query{Page: i + 1, Limit: tc.limit, Sort: "name"}
			page, err := s.ListLeads(ctx, a.ID, q)
			if err != nil {
				t.Fatalf("ListLeads(%+v): %v", q, err)
			}
			if len(page.Leads) != size || page.HasMore != tc.more[i] {
				t.Errorf("ListLeads(%+v) = %d leads, more %v; want %d, %v", q, len(page.Leads), page.HasMore, size, tc.more[i])
			}
			for _, l := range page.Leads {
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

func testInvalidQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	createLead(t, s, fullLead(a.ID))
	for _, q := range []store.Query{
		{Page: 1, Limit: 10, Sort: "bogus"},
		{Page: 1, Limit: 10, Sort: "name; DROP TABLE leads"},
		{Page: 1, Limit: 10, Sort: "phone"},
		{Page: 0, Limit: 10},
		{Page: 1, Limit: 0},
	} {
		if _, err := s.ListLeads(ctx, a.ID, q); err == nil {
			t.Errorf("ListLeads(%+v) succeeded", q)
		}
	}
	for _, q := range []store.Query{
		{Page: 1, Limit: 10, Sort: "email"},
		{Page: 1, Limit: 10, Sort: "slug; --"},
		{Page: -1, Limit: 10},
		{Page: 1, Limit: -5},
	} {
		if _, err := s.ListTemplates(ctx, a.ID, q); err == nil {
			t.Errorf("ListTemplates(%+v) succeeded", q)
		}
	}
	if page, err := s.ListLeads(ctx, a.ID, store.Query{Page: 1, Limit: 10}); err != nil || len(page.Leads) != 1 {
		t.Errorf("ListLeads after the invalid queries = %d leads, %v; want 1", len(page.Leads), err)
	}
}

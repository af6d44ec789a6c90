package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// suppressionTests are the cases of the suppression list and of what it
// does to campaigns.
var suppressionTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"SuppressionCRUD", testSuppressionCRUD},
	{"SuppressionList", testSuppressionList},
	{"SuppressionIsolation", testSuppressionIsolation},
	{"SuppressedLookup", testSuppressedLookup},
	{"EnqueueSuppressedRecords", testEnqueueSuppressedRecords},
	{"BounceSuppresses", testBounceSuppresses},
}

// suppression is the entry of email in account a for reason, made at at.
func suppression(t *testing.T, a axiom.Account, email string, reason axiom.SuppressionReason, at time.Time) axiom.Suppression {
	t.Helper()
	sup, err := axiom.NewSuppression(a.ID, email, reason, "detail of "+email, "", at)
	if err != nil {
		t.Fatalf("NewSuppression(%s): %v", email, err)
	}
	return sup
}

func testSuppressionCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	at := now()
	first := suppression(t, a, "Jane.Doe@Example.com", axiom.SuppressBounced, at)
	first.CampaignID = "cmp_gone"
	got, added, err := s.AddSuppression(ctx, first)
	if err != nil || !added || got != first {
		t.Fatalf("AddSuppression = %+v, %v, %v; want %+v added", got, added, err, first)
	}
	checkStoreTime(t, "suppression CreatedAt", got.CreatedAt)
	// The same address in another case, for another reason: the first stays.
	again := suppression(t, a, "jane.doe@example.COM", axiom.SuppressComplained, at.Add(time.Minute))
	if got, added, err := s.AddSuppression(ctx, again); err != nil || added || got != first {
		t.Fatalf("AddSuppression of a suppressed address = %+v, %v, %v; want the first %+v", got, added, err, first)
	}
	for _, email := range []string{"jane.doe@example.com", "JANE.DOE@EXAMPLE.COM", first.Email} {
		if got, err := s.GetSuppression(ctx, a.ID, email); err != nil || got != first {
			t.Errorf("GetSuppression(%s) = %+v, %v; want %+v", email, got, err, first)
		}
	}
	_, err = s.GetSuppression(ctx, a.ID, "john@example.com")
	wantError(t, "GetSuppression of an address not suppressed", err, axiom.SuppressionNotFound("john@example.com"))
	wantError(t, "DeleteSuppression of an address not suppressed", s.DeleteSuppression(ctx, a.ID, "john@example.com"),
		axiom.SuppressionNotFound("john@example.com"))
	if err := s.DeleteSuppression(ctx, a.ID, "JANE.doe@example.com"); err != nil {
		t.Fatalf("DeleteSuppression: %v", err)
	}
	_, err = s.GetSuppression(ctx, a.ID, first.Email)
	wantError(t, "GetSuppression after the delete", err, axiom.SuppressionNotFound(first.Email))
	// Removed, the address can be suppressed anew, for another reason.
	if got, added, err := s.AddSuppression(ctx, again); err != nil || !added || got != again {
		t.Fatalf("AddSuppression after the delete = %+v, %v, %v; want %+v", got, added, err, again)
	}
	nobody := axiom.NewAccount(axiom.PlanStarter, time.Now())
	_, _, err = s.AddSuppression(ctx, suppression(t, nobody, "x@example.com", axiom.SuppressManual, at))
	wantCode(t, "AddSuppression to an unknown account", err, axiom.CodeNotFound)
	if _, _, err := s.AddSuppression(ctx, axiom.Suppression{AccountID: a.ID}); err == nil {
		t.Error("AddSuppression without a key succeeded")
	}
}

func testSuppressionList(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	at := now()
	var all []axiom.Suppression
	for i, r := range []axiom.SuppressionReason{axiom.SuppressBounced, axiom.SuppressManual, axiom.SuppressBounced,
		axiom.SuppressUnsubscribed, axiom.SuppressComplained, axiom.SuppressBounced, axiom.SuppressManual} {
		sup := suppression(t, a, fmt.Sprintf("%c%d@example.com", 'g'-i, i), r, at.Add(time.Duration(i%4)*time.Second))
		if _, _, err := s.AddSuppression(ctx, sup); err != nil {
			t.Fatal(err)
		}
		all = append(all, sup)
	}
	list := func(q axiom.Query, reason axiom.SuppressionReason) []string {
		t.Helper()
		var keys []string
		for p := 1; ; p++ {
			q.Page = p
			page, err := s.ListSuppressions(ctx, a.ID, q, reason)
			if err != nil {
				t.Fatalf("ListSuppressions(%+v, %q): %v", q, reason, err)
			}
			if len(page.Items) > q.Limit {
				t.Fatalf("a page of %d entries; limit %d", len(page.Items), q.Limit)
			}
			for _, sup := range page.Items {
				keys = append(keys, sup.Key)
			}
			if !page.HasMore {
				return keys
			}
		}
	}
	sorted := func(less func(a, b axiom.Suppression) int, reason axiom.SuppressionReason) []string {
		var keys []string
		s := slices.Clone(all)
		slices.SortStableFunc(s, less)
		for _, sup := range s {
			if reason == "" || sup.Reason == reason {
				keys = append(keys, sup.Key)
			}
		}
		return keys
	}
	byCreation := func(a, b axiom.Suppression) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	byKey := func(a, b axiom.Suppression) int {
		if c := strings.Compare(axiom.SortKey(a.Email), axiom.SortKey(b.Email)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	desc := func(f func(a, b axiom.Suppression) int) func(a, b axiom.Suppression) int {
		return func(a, b axiom.Suppression) int { return f(b, a) }
	}
	for _, tc := range []struct {
		q      axiom.Query
		reason axiom.SuppressionReason
		want   []string
	}{
		{axiom.Query{Limit: 2}, "", sorted(byCreation, "")},
		{axiom.Query{Limit: 3, Desc: true}, "", sorted(desc(byCreation), "")},
		{axiom.Query{Limit: 2, Sort: "email"}, "", sorted(byKey, "")},
		{axiom.Query{Limit: 4, Sort: "email", Desc: true}, "", sorted(desc(byKey), "")},
		{axiom.Query{Limit: 2, Sort: "email"}, axiom.SuppressBounced, sorted(byKey, axiom.SuppressBounced)},
		{axiom.Query{Limit: 10}, axiom.SuppressComplained, sorted(byCreation, axiom.SuppressComplained)},
	} {
		if got := list(tc.q, tc.reason); !slices.Equal(got, tc.want) {
			t.Errorf("ListSuppressions(%+v, %q) = %v; want %v", tc.q, tc.reason, got, tc.want)
		}
	}
	if _, err := s.ListSuppressions(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Sort: "name"}, ""); !errors.Is(err, axiom.ErrInvalidParameter) {
		t.Errorf("ListSuppressions sorted by name: %v; want ErrInvalidParameter", err)
	}
	if _, err := s.ListSuppressions(ctx, a.ID, axiom.Query{Page: 0, Limit: 10}, ""); !errors.Is(err, axiom.ErrInvalidParameter) {
		t.Errorf("ListSuppressions of page 0: %v; want ErrInvalidParameter", err)
	}
}

// One account's list never touches another's.
func testSuppressionIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	at := now()
	mine := suppression(t, a, "jane@example.com", axiom.SuppressBounced, at)
	if _, _, err := s.AddSuppression(ctx, mine); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetSuppression(ctx, b.ID, mine.Email)
	wantError(t, "GetSuppression by another account", err, axiom.SuppressionNotFound(mine.Email))
	wantError(t, "DeleteSuppression by another account", s.DeleteSuppression(ctx, b.ID, mine.Email), axiom.SuppressionNotFound(mine.Email))
	if got, err := s.Suppressed(ctx, b.ID, []string{mine.Key}); err != nil || len(got) != 0 {
		t.Errorf("Suppressed in another account = %v, %v; want none", got, err)
	}
	if page, err := s.ListSuppressions(ctx, b.ID, axiom.Query{Page: 1, Limit: 10}, ""); err != nil || len(page.Items) != 0 {
		t.Errorf("another account lists %+v, %v", page, err)
	}
	// The other account suppresses the same address for its own reason.
	theirs := suppression(t, b, "JANE@example.com", axiom.SuppressManual, at)
	if got, added, err := s.AddSuppression(ctx, theirs); err != nil || !added || got != theirs {
		t.Fatalf("AddSuppression of the same address in another account = %+v, %v, %v", got, added, err)
	}
	if got, err := s.GetSuppression(ctx, a.ID, mine.Email); err != nil || got != mine {
		t.Errorf("the first account's entry after the other's: %+v, %v; want %+v", got, err, mine)
	}
	if err := s.DeleteSuppression(ctx, b.ID, theirs.Email); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Suppressed(ctx, a.ID, []string{mine.Key}); err != nil || got[mine.Key] != axiom.SuppressBounced {
		t.Errorf("after the other account's delete: %v, %v; want the first's entry", got, err)
	}
}

// Suppressed answers for any number of keys, duplicates included.
func testSuppressedLookup(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	at := now()
	want := map[string]axiom.SuppressionReason{}
	var keys []string
	for i := range 1203 {
		email := fmt.Sprintf("lead%04d@example.com", i)
		keys = append(keys, axiom.SuppressionKey(email))
		if i%7 == 0 {
			r := axiom.SuppressionReasons()[i%4]
			if _, _, err := s.AddSuppression(ctx, suppression(t, a, email, r, at)); err != nil {
				t.Fatal(err)
			}
			want[axiom.SuppressionKey(email)] = r
		}
	}
	keys = append(keys, keys[0], keys[7])
	got, err := s.Suppressed(ctx, a.ID, keys)
	if err != nil || len(got) != len(want) {
		t.Fatalf("Suppressed of %d keys = %d entries, %v; want %d", len(keys), len(got), err, len(want))
	}
	for k, r := range want {
		if got[k] != r {
			t.Errorf("Suppressed[%s] = %q; want %q", k, got[k], r)
		}
	}
	if got, err := s.Suppressed(ctx, a.ID, nil); err != nil || len(got) != 0 {
		t.Errorf("Suppressed of no key = %v, %v", got, err)
	}
}

// A lead left out is recorded, never claimed, no recipient, and counted.
func testEnqueueSuppressedRecords(t *testing.T, s Store) {
	ctx := t.Context()
	c, tmpl, ls := enqueueing(t, s, 3)
	at := now()
	left := axiom.SuppressedMessage(c, ls[1], "The address is on the account's suppression list (bounced)", rand.Text(), rand.Text(), at)
	ms := []axiom.Message{render(c, tmpl, ls[0]), left, render(c, tmpl, ls[2])}
	if err := s.EnqueueMessages(ctx, c.ID, ms, ls[2].ID, at.Add(hold)); err != nil {
		t.Fatal(err)
	}
	done, err := s.FinishEnqueue(ctx, c.ID)
	if err != nil || done.Counts != (axiom.CampaignCounts{Recipients: 2}) {
		t.Fatalf("FinishEnqueue = %+v, %v; want 2 recipients", done.Counts, err)
	}
	listed := allMessages(t, s, c)
	if len(listed) != 3 || listed[1].ID != left.ID || listed[1].Status != axiom.MessageSuppressed || listed[1].Error != left.Error ||
		listed[1].To != ls[1].Email || listed[1].SentAt != nil {
		t.Fatalf("messages = %+v; want the record of %s left out between the two", listed, ls[1].Email)
	}
	claimed, err := s.ClaimMessages(ctx, workerA, at, time.Minute, 10)
	if err != nil || len(claimed) != 2 || slices.ContainsFunc(claimed, func(m axiom.Message) bool { return m.ID == left.ID }) {
		t.Fatalf("ClaimMessages = %+v, %v; want the two others", claimed, err)
	}
	st, err := s.CampaignStats(ctx, c.AccountID, c.ID)
	if err != nil || st != (axiom.CampaignStats{Recipients: 2, Pending: 2, Suppressed: 1}) {
		t.Fatalf("CampaignStats = %+v, %v; want 2 recipients pending, 1 suppressed", st, err)
	}
	for _, m := range claimed {
		if err := s.CompleteMessage(ctx, workerA, m.ID, axiom.Outcome{Status: axiom.MessageSent, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	// The records of leads left out do not keep the campaign sending.
	got, err := s.GetCampaign(ctx, c.AccountID, c.ID)
	if err != nil || got.Status != axiom.CampaignSent || got.Counts != (axiom.CampaignCounts{Recipients: 2, Sent: 2}) {
		t.Fatalf("campaign = %+v, %v; want sent to 2", got, err)
	}
	// A campaign of nobody but leads left out finishes too.
	d, _, dl := enqueueing(t, s, 1)
	if err := s.EnqueueMessages(ctx, d.ID, []axiom.Message{axiom.SuppressedMessage(d, dl[0], "The lead is unsubscribed",
		rand.Text(), rand.Text(), at)}, dl[0].ID, at.Add(hold)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishEnqueue(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FinishCampaigns(ctx, at); err != nil || n != 1 {
		t.Errorf("FinishCampaigns of a campaign of leads left out = %d, %v; want 1", n, err)
	}
}

// A bounce suppresses the address with the outcome, atomically.
func testBounceSuppresses(t *testing.T, s Store) {
	ctx := t.Context()
	c := sendingCampaign(t, s, 3)
	a := axiom.Account{ID: c.AccountID}
	at := now()
	ms, err := s.ClaimMessages(ctx, workerA, at, time.Minute, 10)
	if err != nil || len(ms) != 3 {
		t.Fatalf("ClaimMessages = %d, %v", len(ms), err)
	}
	bounce := func(m axiom.Message, accountID string) axiom.Outcome {
		sup, err := axiom.NewSuppression(accountID, m.To, axiom.SuppressBounced, "550 No such user", m.CampaignID, at)
		if err != nil {
			t.Fatal(err)
		}
		return axiom.Outcome{Status: axiom.MessageFailed, Error: "550 No such user", At: at, Suppress: &sup}
	}
	// A suppression of another account is refused, and nothing recorded.
	other := newAccount(t, s)
	if err := s.CompleteMessage(ctx, workerA, ms[0].ID, bounce(ms[0], other.ID)); err == nil {
		t.Fatal("CompleteMessage with another account's suppression succeeded")
	}
	if _, err := s.GetSuppression(ctx, other.ID, ms[0].To); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("the refused outcome suppressed the address in the other account: %v", err)
	}
	if err := s.CompleteMessage(ctx, workerA, ms[0].ID, bounce(ms[0], a.ID)); err != nil {
		t.Fatalf("CompleteMessage of a bounce: %v", err)
	}
	sup, err := s.GetSuppression(ctx, a.ID, ms[0].To)
	if err != nil || sup.Reason != axiom.SuppressBounced || sup.CampaignID != c.ID || sup.Detail != "550 No such user" || !sup.CreatedAt.Equal(at) {
		t.Fatalf("the bounce's suppression: %+v, %v", sup, err)
	}
	// An address the account suppressed already keeps its first reason.
	manual := suppression(t, a, ms[1].To, axiom.SuppressManual, at)
	if _, _, err := s.AddSuppression(ctx, manual); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, workerA, ms[1].ID, bounce(ms[1], a.ID)); err != nil {
		t.Fatalf("CompleteMessage of a bounce to an address suppressed: %v", err)
	}
	if got, err := s.GetSuppression(ctx, a.ID, ms[1].To); err != nil || got != manual {
		t.Errorf("the entry after a second bounce: %+v, %v; want %+v", got, err, manual)
	}
	// A failure that is not a bounce suppresses nothing.
	if err := s.CompleteMessage(ctx, workerA, ms[2].ID, axiom.Outcome{Status: axiom.MessageFailed, Error: "554 sender refused", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSuppression(ctx, a.ID, ms[2].To); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("a failure that is no bounce suppressed the address: %v", err)
	}
	st, err := s.CampaignStats(ctx, a.ID, c.ID)
	if err != nil || st != (axiom.CampaignStats{Recipients: 3, Failed: 3, Bounces: 2}) {
		t.Fatalf("CampaignStats = %+v, %v; want 3 failed, 2 bounces", st, err)
	}
}

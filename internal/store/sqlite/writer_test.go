package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// group commits ops as one group of the writer goroutine would, and
// returns each op's answer.
func group(t *testing.T, db *DB, fns ...func(tx *sql.Tx) error) []error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	return groupCtx(t, db, func(int) context.Context { return ctx }, fns...)
}

func groupCtx(t *testing.T, db *DB, ctxOf func(i int) context.Context, fns ...func(tx *sql.Tx) error) []error {
	t.Helper()
	ops := make([]*writeOp, len(fns))
	for i, fn := range fns {
		ops[i] = &writeOp{ctx: ctxOf(i), fn: fn, done: make(chan error, 1)}
	}
	// The writer goroutine is idle between the test's calls, so running a
	// group here meets no other transaction.
	db.runGroup(ops)
	errs := make([]error, len(ops))
	for i, op := range ops {
		select {
		case errs[i] = <-op.done:
		default:
			t.Fatalf("write %d of the group was never answered", i)
		}
		select {
		case err := <-op.done:
			t.Fatalf("write %d of the group was answered twice (again with %v)", i, err)
		default:
		}
	}
	return errs
}

// insertFn is a write of db inserting l, with a new id unless l has one.
func insertFn(ctx context.Context, db *DB, l axiom.Lead) func(tx *sql.Tx) error {
	id := l.ID
	l = axiom.NewLead(l.AccountID, l, time.Now())
	if id != "" {
		l.ID = id
	}
	return func(tx *sql.Tx) error { return sqlstore.InsertLead(ctx, db.Store, tx, l) }
}

// emails returns the emails of the leads of accountID, sorted.
func emails(t *testing.T, db *DB, accountID, search string) []string {
	t.Helper()
	p, err := db.ListLeads(t.Context(), accountID, axiom.Query{Page: 1, Limit: 100, Search: search})
	if err != nil {
		t.Fatal(err)
	}
	var es []string
	for _, l := range p.Items {
		es = append(es, l.Email)
	}
	slices.Sort(es)
	return es
}

// checkIndex runs FTS5's own check that the search index matches the leads.
func checkIndex(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.w.ExecContext(t.Context(), "INSERT INTO leads_fts (leads_fts) VALUES ('integrity-check')"); err != nil {
		t.Errorf("search index integrity check: %v", err)
	}
	var pending int
	if err := db.r.QueryRowContext(t.Context(), "SELECT count(*) FROM leads_fts_pending").Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d leads left waiting for the index after a commit, %v", pending, err)
	}
}

func newDB(t *testing.T, opts Options) (*DB, axiom.Account) {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "axiom.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	acc := axiom.NewAccount(axiom.PlanStarter, time.Now())
	if err := db.CreateAccount(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
	return db, acc
}

// A write of a group that fails undoes only its own changes.
func TestGroupFailureIsolated(t *testing.T) {
	db, acc := newDB(t, Options{})
	ctx := t.Context()
	lead := func(email string) axiom.Lead {
		return axiom.Lead{AccountID: acc.ID, Name: "Group Lead", Email: email, Tags: []string{"grouped"}}
	}
	failing := errors.New("failing on purpose")
	errs := group(t, db,
		insertFn(ctx, db, lead("a@example.com")),
		insertFn(ctx, db, lead("A@example.com")), // duplicate of the first
		insertFn(ctx, db, lead("b@example.com")),
		func(tx *sql.Tx) error { // changes, then fails: its change must not stay
			if err := insertFn(ctx, db, lead("c@example.com"))(tx); err != nil {
				return err
			}
			return failing
		},
		insertFn(ctx, db, lead("d@example.com")),
	)
	if errs[0] != nil || !errors.Is(errs[1], axiom.ErrDuplicate) || errs[2] != nil || !errors.Is(errs[3], failing) || errs[4] != nil {
		t.Errorf("answers = %v; want nil, duplicate, nil, %v, nil", errs, failing)
	}
	if got, want := emails(t, db, acc.ID, ""), []string{"a@example.com", "b@example.com", "d@example.com"}; !slices.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}
	if got, want := emails(t, db, acc.ID, "grouped"), []string{"a@example.com", "b@example.com", "d@example.com"}; !slices.Equal(got, want) {
		t.Errorf("search found %v; want %v", got, want)
	}
	checkIndex(t, db)
}

// A write whose transaction SQLite rolls back (as it does on some errors)
// fails alone: the writes grouped with it are committed all the same.
func TestGroupBrokenTransactionRetried(t *testing.T) {
	db, acc := newDB(t, Options{})
	ctx := t.Context()
	lead := func(email string) axiom.Lead { return axiom.Lead{AccountID: acc.ID, Name: "Lead", Email: email} }
	broke := errors.New("rolled back")
	for _, tc := range []struct {
		name  string
		fn    func(tx *sql.Tx) error
		wantF func(error) bool
	}{
		{"fails", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "ROLLBACK"); err != nil {
				return err
			}
			return broke
		}, func(err error) bool { return errors.Is(err, broke) }},
		// Succeeding after the rollback, it is retried alone, and then
		// cannot commit.
		{"succeeds", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "ROLLBACK")
			return err
		}, func(err error) bool { return err != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fmt.Sprintf("before-%s@example.com", tc.name)
			after := fmt.Sprintf("after-%s@example.com", tc.name)
			errs := group(t, db, insertFn(ctx, db, lead(before)), tc.fn, insertFn(ctx, db, lead(after)))
			if errs[0] != nil || !tc.wantF(errs[1]) || errs[2] != nil {
				t.Errorf("answers = %v; want nil, an error, nil", errs)
			}
			got := emails(t, db, acc.ID, tc.name)
			if !slices.Equal(got, []string{after, before}) {
				t.Errorf("stored %v; want %v and %v", got, before, after)
			}
		})
	}
	checkIndex(t, db)
}

// A write whose caller gave up before its turn is not run; the others are.
func TestGroupSkipsCanceledWrites(t *testing.T) {
	db, acc := newDB(t, Options{})
	live := t.Context()
	gone, cancel := context.WithCancel(live)
	cancel()
	lead := func(email string) axiom.Lead { return axiom.Lead{AccountID: acc.ID, Name: "Lead", Email: email} }
	errs := groupCtx(t, db, func(i int) context.Context {
		if i == 1 {
			return gone
		}
		return live
	}, insertFn(live, db, lead("one@example.com")), insertFn(live, db, lead("two@example.com")), insertFn(live, db, lead("three@example.com")))
	if errs[0] != nil || !errors.Is(errs[1], context.Canceled) || errs[2] != nil {
		t.Errorf("answers = %v; want nil, context.Canceled, nil", errs)
	}
	if got, want := emails(t, db, acc.ID, ""), []string{"one@example.com", "three@example.com"}; !slices.Equal(got, want) {
		t.Errorf("stored %v; want %v", got, want)
	}
}

// Leads created, changed and deleted within one group are indexed as they
// are at the commit.
func TestGroupSearchIndex(t *testing.T) {
	db, acc := newDB(t, Options{})
	ctx := t.Context()
	kept := axiom.Lead{AccountID: acc.ID, Name: "Ada Lovelace", Email: "ada@example.com", Tags: []string{"analyst"}}
	gone := axiom.Lead{AccountID: acc.ID, Name: "Charles Babbage", Email: "charles@example.com", Tags: []string{"engine"}}
	old := axiom.Lead{AccountID: acc.ID, Name: "Old Name", Email: "old@example.com"}
	oldLead := axiom.NewLead(acc.ID, old, time.Now())
	if err := db.CreateLead(ctx, oldLead); err != nil { // indexed in an earlier commit
		t.Fatal(err)
	}
	var keptID, goneID string
	rename := func(id *string, p axiom.LeadPatch) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error {
			l, err := sqlstore.ScanLead(tx.QueryRowContext(ctx, "SELECT "+db.LeadRow()+" FROM leads WHERE id = ?", *id))
			if err != nil {
				return err
			}
			l = p.Apply(l, time.Now())
			_, err = tx.ExecContext(ctx, "UPDATE leads SET name = ?, search_text = ? WHERE id = ?", l.Name, l.SearchText(), *id)
			return err
		}
	}
	create := func(id *string, l axiom.Lead) func(tx *sql.Tx) error {
		l.ID = axiom.NewID(axiom.PrefixLead, time.Now())
		*id = l.ID
		return insertFn(ctx, db, l)
	}
	oldID := oldLead.ID
	errs := group(t, db,
		create(&keptID, kept),
		create(&goneID, gone),
		rename(&keptID, axiom.LeadPatch{Name: new("Augusta King")}),
		func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM leads WHERE id = ?", goneID)
			return err
		},
		rename(&oldID, axiom.LeadPatch{Name: new("New Name")}),
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		search string
		want   []string
	}{
		{"augusta", []string{"ada@example.com"}},
		{"ada", []string{"ada@example.com"}},
		{"lovelace", nil},
		{"analyst", []string{"ada@example.com"}},
		{"charles", nil},
		{"engine", nil},
		{"new", []string{"old@example.com"}},
		{"name", []string{"old@example.com"}},
		{"old", []string{"old@example.com"}}, // its email
	} {
		if got := emails(t, db, acc.ID, tc.search); !slices.Equal(got, tc.want) {
			t.Errorf("search %q = %v; want %v", tc.search, got, tc.want)
		}
	}
	checkIndex(t, db)
}

// Writes sent from many goroutines while the DB closes each get an answer:
// none is left waiting.
func TestWritesAnsweredAcrossClose(t *testing.T) {
	db, acc := newDB(t, Options{})
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			<-start
			err := db.CreateLead(context.Background(), axiom.NewLead(acc.ID, axiom.Lead{Name: "Racer", Email: fmt.Sprintf("r%d@example.com", i)}, time.Now()))
			results <- err
		})
	}
	close(start)
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("writes still waiting a minute after Close")
	}
	close(results)
	for err := range results {
		if err != nil && !errors.Is(err, errClosed) {
			t.Errorf("write during Close: %v; want success or errClosed", err)
		}
	}
	if err := db.CreateLead(t.Context(), axiom.NewLead(acc.ID, axiom.Lead{Name: "Late", Email: "late@example.com"}, time.Now())); !errors.Is(err, errClosed) {
		t.Errorf("write after Close: %v; want errClosed", err)
	}
}

// Writes from many goroutines, grouped as they come, each get their own
// result, and one acknowledged is stored.
func TestConcurrentWritesGrouped(t *testing.T) {
	db, acc := newDB(t, Options{})
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			email := fmt.Sprintf("lead%d@example.com", i/2) // every email twice
			l := axiom.NewLead(acc.ID, axiom.Lead{Name: "Lead", Email: email}, time.Now())
			errs[i], ids[i] = db.CreateLead(t.Context(), l), l.ID
		})
	}
	wg.Wait()
	for i := 0; i < n; i += 2 {
		a, b := errs[i], errs[i+1]
		if (a == nil) == (b == nil) || !errors.Is(errors.Join(a, b), axiom.ErrDuplicate) {
			t.Errorf("creates of lead%d@example.com: %v and %v; want one success and one duplicate", i/2, a, b)
		}
	}
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		if _, err := db.GetLead(t.Context(), acc.ID, id); err != nil {
			t.Errorf("lead %s acknowledged but not found: %v", id, err)
		}
	}
	checkIndex(t, db)
}

// Indexing the new leads at a commit reads only those, however many leads
// there are and whatever the planner's statistics say.
func TestFlushPendingPlan(t *testing.T) {
	db, _ := newDB(t, Options{})
	ctx := t.Context()
	// Statistics as a large database has them after PRAGMA optimize.
	if _, err := db.w.ExecContext(ctx, `ANALYZE sqlite_schema;
		INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('leads', 'leads_created', '1000000 1000000 1 1');
		ANALYZE sqlite_schema`); err != nil {
		t.Fatal(err)
	}
	query := strings.TrimSpace(indexPendingSQL[strings.Index(indexPendingSQL, "SELECT"):])
	rows, err := db.w.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 2 || !strings.HasPrefix(plan[0], "SCAN p") || !strings.HasPrefix(plan[1], "SEARCH l") {
		t.Errorf("plan of indexing the pending leads = %q; want a scan of the pending ones and a search of leads", plan)
	}
}

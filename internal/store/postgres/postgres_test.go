package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/pgtest"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
	"github.com/axiomkit/axiom/internal/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

// baseURL returns the test database's URL, or skips the test when none is set.
func baseURL(t *testing.T) string { return pgtest.URL(t) }

func withParam(t *testing.T, u, k, v string) string { return pgtest.WithParam(t, u, k, v) }

func admin(t *testing.T, u string, stmts ...string) { pgtest.Exec(t, u, stmts...) }

func freshSchema(t *testing.T, base string) string { return pgtest.SchemaOf(t, base) }

func newAccount(t *testing.T, db *DB) axiom.Account {
	t.Helper()
	a := axiom.NewAccount(axiom.PlanStarter, time.Now())
	if err := db.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func open(t *testing.T, u string) *DB {
	t.Helper()
	db, err := Open(t.Context(), u, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	base := baseURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, freshSchema(t, base)) })
}

// Servers sharing one database: each store is one, with its own pool.
func TestStoreShared(t *testing.T) {
	base := baseURL(t)
	storetest.RunShared(t, func(t *testing.T) []storetest.Store {
		u := freshSchema(t, base)
		return []storetest.Store{open(t, u), open(t, u), open(t, u)}
	})
}

// In a database whose own collation is not byte order, the suite still
// passes: every column that sorts says COLLATE "C". By default only the
// cases where text order shows run (some 20 s less); AXIOM_SLOW_TESTS=1
// runs them all.
func TestStoreNaturalLanguageCollation(t *testing.T) {
	base := baseURL(t)
	name := "axiom_icu_" + strings.ToLower(rand.Text())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'")
	conn.Close(ctx)
	if err != nil {
		t.Skipf("this PostgreSQL cannot create a database with an ICU collation: %v", err)
	}
	t.Cleanup(func() { admin(t, base, "DROP DATABASE "+name+" WITH (FORCE)") })
	p, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = "/" + name
	db := p.String()

	// The database's own order differs from byte order, or this test proves nothing.
	var before bool
	probe := open(t, freshSchema(t, db))
	err = probe.sql.QueryRowContext(ctx, "SELECT 'b' < 'B'").Scan(&before)
	probe.Close()
	if err != nil || !before {
		t.Fatalf("'b' < 'B' in the en-US database = %v, %v; want true", before, err)
	}
	run := storetest.RunOrdering
	if os.Getenv("AXIOM_SLOW_TESTS") != "" {
		run = storetest.Run
	}
	run(t, func(t *testing.T) storetest.Store { return open(t, freshSchema(t, db)) })
}

// Servers starting at once on an empty database migrate it once, and all start.
func TestConcurrentOpen(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	const n = 8
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(context.Background(), u, Options{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := dbs[0].sql.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Errorf("schema_migrations holds %d rows; want %d", applied, len(ms))
	}
	// Each sees what another writes.
	ctx := t.Context()
	acc := newAccount(t, dbs[1])
	if err := dbs[2].CreateLead(ctx, axiom.NewLead(acc.ID, axiom.Lead{Name: "Shared", Email: "shared@example.com"}, time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := dbs[3].CreateLead(ctx, axiom.NewLead(acc.ID, axiom.Lead{Name: "Copy", Email: "SHARED@example.com"}, time.Now())); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("duplicate email through another store: error = %v; want ErrDuplicate", err)
	}
}

func TestReopen(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	storetest.RunReopen(t, func(t *testing.T) storetest.Store { return open(t, u) })
}

// A database migrated by a newer server is refused rather than misread.
func TestNewerSchemaRefused(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	db := open(t, u)
	if _, err := db.sql.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', now())"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), u, Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v; want one saying the schema is newer", err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, u := range []string{
		"postgres://user:secret@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=2", // nothing listens on port 1
		"postgres://user:secret@127.0.0.1:5432/db?sslmode=bogus",
	} {
		db, err := Open(t.Context(), u, Options{})
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// Words longer than PostgreSQL's lexemes are cut, not corrupted, and still found.
func TestLongWords(t *testing.T) {
	ctx := t.Context()
	db := open(t, freshSchema(t, baseURL(t)))
	defer db.Close()
	acc := newAccount(t, db)
	long := strings.Repeat("é", 1500) // 3000 bytes
	l := axiom.NewLead(acc.ID, axiom.Lead{Name: long + " short " + long + "x", Email: "long@example.com"}, time.Now())
	if err := db.CreateLead(ctx, l); err != nil {
		t.Fatalf("CreateLead with a %d-byte word: %v", len(long), err)
	}
	for _, q := range []string{"ééé", strings.Repeat("é", 1100), long, "short"} {
		page, err := db.ListLeads(ctx, acc.ID, axiom.Query{Page: 1, Limit: 10, Search: q})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != l.ID {
			t.Errorf("search of %d bytes = %d leads, %v; want the lead", len(q), len(page.Items), err)
		}
	}
	page, err := db.ListLeads(ctx, acc.ID, axiom.Query{Page: 1, Limit: 10, Search: "éa"})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("search éa = %d leads, %v; want none", len(page.Items), err)
	}
}

func TestTSQuery(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{nil, ""},
		{[]string{"john"}, `'john':*`},
		{[]string{"john", "smi"}, `'john':* & 'smi':*`},
		{[]string{"and", "or", "not"}, `'and':* & 'or':* & 'not':*`},
		{[]string{"ünal"}, `'ünal':*`},
		// axiom.SearchWords never yields these; they are quoted all the same.
		{[]string{"o'brien"}, `'o''brien':*`},
		{[]string{`a\`}, `'a\\':*`},
		{[]string{"a & b | !c"}, `'a & b | !c':*`},
	} {
		if got := TSQuery(tc.words); got != tc.want {
			t.Errorf("TSQuery(%q) = %s; want %s", tc.words, got, tc.want)
		}
	}
}

func TestLexeme(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"word", 4},
		{strings.Repeat("a", maxLexeme), maxLexeme},
		{strings.Repeat("a", maxLexeme+1), maxLexeme},
		{strings.Repeat("é", 1500), 2046}, // cut on a character boundary
		{"a" + strings.Repeat("€", 1000), 2047},
	} {
		got := lexeme(tc.in)
		if len(got) != tc.want || !strings.HasPrefix(tc.in, got) || !utf8Valid(got) {
			t.Errorf("lexeme of %d bytes = %d bytes; want %d, a valid prefix", len(tc.in), len(got), tc.want)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// Lists stored as text[] before 0003 are read back after it, as JSON.
func TestListsMigratedToJSON(t *testing.T) {
	ctx := t.Context()
	base := baseURL(t)
	u := freshSchema(t, base)
	db := open(t, u)
	defer db.Close()
	acc := newAccount(t, db)
	// Roll 0003 back as far as the lists go, store a lead as the server
	// before it did, and migrate the lists as 0003 does.
	for _, q := range []string{
		"ALTER TABLE leads DROP COLUMN tags, DROP COLUMN notes",
		"ALTER TABLE leads ADD COLUMN tags text[] NOT NULL DEFAULT '{}', ADD COLUMN notes text[] NOT NULL DEFAULT '{}'",
		"ALTER TABLE leads ALTER COLUMN tags DROP DEFAULT, ALTER COLUMN notes DROP DEFAULT",
		`INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort, phone, company, type, status,
			source, tags, notes, custom_fields, search, created_at, updated_at)
			VALUES ('cnt_old', '` + acc.ID + `', 'Old', 'old@example.com', 'old@example.com', 'old', 'old@example.com', '', '',
			'lead', 'active', '', ARRAY['vip', 'it''s'], ARRAY['a "note"'], '{}', array_to_tsvector(ARRAY['old', 'vip']), now(), now())`,
		"ALTER TABLE leads ALTER COLUMN tags TYPE jsonb USING to_jsonb(tags)",
		"ALTER TABLE leads ALTER COLUMN notes TYPE jsonb USING to_jsonb(notes)",
	} {
		if _, err := db.sql.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	l, err := db.GetLead(ctx, acc.ID, "cnt_old")
	if err != nil || !slices.Equal(l.Tags, []string{"vip", "it's"}) || !slices.Equal(l.Notes, []string{`a "note"`}) {
		t.Errorf("GetLead of a lead from before = %+v, %v", l, err)
	}
}

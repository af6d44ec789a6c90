package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/server/store"
	"github.com/axiomkit/axiom/server/store/storetest"
)

// envURL names the database the tests may create schemas and databases in.
const envURL = "AXIOM_TEST_POSTGRES_URL"

// baseURL returns the test database's URL, or skips the test when none is set.
func baseURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Skipf("%s is unset: no PostgreSQL to test against (.ci/services.sh starts one)", envURL)
	}
	return u
}

// withParam returns the URL u with the query parameter k set to v.
func withParam(t *testing.T, u, k, v string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// admin runs statements on the database u names, outside any store.
func admin(t *testing.T, u string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns the URL of base that works in it.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	name := "test_" + strings.ToLower(rand.Text())
	admin(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return withParam(t, base, "search_path", name)
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
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshSchema(t, base)) })
}

// In a database whose own collation is not byte order, the suite still
// passes: every column that sorts says COLLATE "C".
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
	err = probe.pool.QueryRow(ctx, "SELECT 'b' < 'B'").Scan(&before)
	probe.Close()
	if err != nil || !before {
		t.Fatalf("'b' < 'B' in the en-US database = %v, %v; want true", before, err)
	}
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshSchema(t, db)) })
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
	ms, err := store.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := dbs[0].pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Errorf("schema_migrations holds %d rows; want %d", applied, len(ms))
	}
	// Each sees what another writes.
	ctx := t.Context()
	acc, err := dbs[1].CreateAccount(ctx, store.PlanStarter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[2].CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: "Shared", Email: "shared@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[3].CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: "Copy", Email: "SHARED@example.com"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate email through another store: error = %v; want ErrDuplicate", err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	u := freshSchema(t, baseURL(t))
	db := open(t, u)
	acc, err := db.CreateAccount(ctx, store.PlanStarter)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := db.CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: "Kept Lead", Email: "kept@example.com", Tags: []string{"durable"}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, u)
	defer db.Close()
	got, err := db.GetLead(ctx, acc.ID, lead.ID)
	if err != nil || got.Name != "Kept Lead" || !got.CreatedAt.Equal(lead.CreatedAt) {
		t.Errorf("GetLead after reopening = %+v, %v", got, err)
	}
	page, err := db.ListLeads(ctx, acc.ID, store.Query{Page: 1, Limit: 10, Search: "dura"})
	if err != nil || len(page.Leads) != 1 {
		t.Errorf("search after reopening = %d leads, %v; want 1", len(page.Leads), err)
	}
}

// A database migrated by a newer server is refused rather than misread.
func TestNewerSchemaRefused(t *testing.T) {
	u := freshSchema(t, baseURL(t))
	db := open(t, u)
	if _, err := db.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', now())"); err != nil {
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
	acc, err := db.CreateAccount(ctx, store.PlanStarter)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 1500) // 3000 bytes
	l, err := db.CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: long + " short", Email: "long@example.com"})
	if err != nil {
		t.Fatalf("CreateLead with a %d-byte word: %v", len(long), err)
	}
	for _, q := range []string{"ééé", strings.Repeat("é", 1100), long, "short"} {
		page, err := db.ListLeads(ctx, acc.ID, store.Query{Page: 1, Limit: 10, Search: q})
		if err != nil || len(page.Leads) != 1 || page.Leads[0].ID != l.ID {
			t.Errorf("search of %d bytes = %d leads, %v; want the lead", len(q), len(page.Leads), err)
		}
	}
	page, err := db.ListLeads(ctx, acc.ID, store.Query{Page: 1, Limit: 10, Search: "éa"})
	if err != nil || len(page.Leads) != 0 {
		t.Errorf("search éa = %d leads, %v; want none", len(page.Leads), err)
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
		// store.SearchWords never yields these; they are quoted all the same.
		{[]string{"o'brien"}, `'o''brien':*`},
		{[]string{`a\`}, `'a\\':*`},
		{[]string{"a & b | !c"}, `'a & b | !c':*`},
	} {
		if got := tsquery(tc.words); got != tc.want {
			t.Errorf("tsquery(%q) = %s; want %s", tc.words, got, tc.want)
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

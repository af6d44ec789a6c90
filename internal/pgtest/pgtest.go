// Package pgtest gives tests a PostgreSQL of their own: the server named by
// AXIOM_TEST_POSTGRES_URL (.ci/services.sh starts one), and a fresh schema
// in it per test.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the database the tests may create schemas and databases in.
const EnvURL = "AXIOM_TEST_POSTGRES_URL"

// URL returns the test database's URL, or skips the test when none is set.
// Its sessions commit without waiting for the WAL to reach the disk
// (synchronous_commit=off): the tests' thousands of small transactions and
// migrations then cost their work, not a flush each; only a crash of
// PostgreSQL itself could lose one, which no test makes.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skipf("%s is unset: no PostgreSQL to test against (.ci/services.sh starts one)", EnvURL)
	}
	return WithParam(t, u, "synchronous_commit", "off")
}

// WithParam returns the URL u with the query parameter k set to v.
func WithParam(t testing.TB, u, k, v string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// Exec runs statements on the database u names, outside any store.
func Exec(t testing.TB, u string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Count counts the rows of table in the database u names.
func Count(t testing.TB, u, table string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Schema creates an empty schema on the test database, dropped when the
// test ends, and returns the URL that works in it; it skips the test
// without a database.
func Schema(t testing.TB) string {
	t.Helper()
	return SchemaOf(t, URL(t))
}

// SchemaOf is Schema on the database base names.
func SchemaOf(t testing.TB, base string) string {
	t.Helper()
	name := "test_" + strings.ToLower(rand.Text())
	Exec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { Exec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return WithParam(t, base, "search_path", name)
}

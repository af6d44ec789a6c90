// Package driverbench compares SQLite drivers for database/sql on the
// queries of the Axiom store, on its real schema. Each driver has its own
// test package, because two of them register the same driver name.
package driverbench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Opener opens a database/sql handle on the file at path.
type Opener func(path string) (*sql.DB, error)

// Rows is how many leads the list and search benchmarks look through.
const Rows = 10_000

const account = "acc_bench"

// schema is the store's own first migration, read from the source tree so
// that the benchmarks always run on the schema the store uses.
func schema(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the source tree")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "migrations", "0001_init.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

var (
	firstNames = []string{"John", "Jane", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Kofi", "Yuki", "Sam", "Eva"}
	lastNames  = []string{"Smith", "Doe", "Garcia", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Mensah", "Sato", "Brown", "Novak"}
	companies  = []string{"Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Hooli"}
	tagWords   = []string{"buyer", "seller", "residential", "commercial", "vip", "investor"}
)

const insertLead = `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
	phone, company, type, status, source, tags, notes, custom_fields, search_text, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// leadArgs are the arguments of insertLead for the i-th lead, as the store
// computes them.
func leadArgs(r *rand.Rand, i int, at time.Time) []any {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	name := first + " " + last
	email := fmt.Sprintf("%s.%s%d@example.com", first, last, i)
	phone := fmt.Sprintf("+1%010d", r.Int64N(1e10))
	company := companies[r.IntN(len(companies))]
	tag1, tag2 := tagWords[r.IntN(len(tagWords))], tagWords[r.IntN(len(tagWords))]
	search := strings.ToLower(fmt.Sprintf("%s %s %s %s%d example com %s %s %s %s", first, last, first, last, i, company, phone[1:], tag1, tag2))
	ms := at.UnixMilli()
	return []any{
		fmt.Sprintf("cnt_%08d", i), account, name, email, strings.ToLower(email), strings.ToLower(name), strings.ToLower(email),
		phone, company, "lead", "active", "website",
		fmt.Sprintf("[%q,%q]", tag1, tag2), `["Met at the fair"]`, `{"budget":"100k"}`, search, ms, ms,
	}
}

// open opens a new database with the store's settings and schema and one
// account holding n leads. It uses one connection, as the store's writer does.
func open(b *testing.B, o Opener, n int) (*sql.DB, *rand.Rand) {
	b.Helper()
	ctx := context.Background()
	db, err := o(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, p := range []string{"busy_timeout = 5000", "foreign_keys = ON", "journal_mode = WAL", "synchronous = FULL"} {
		if _, err := db.ExecContext(ctx, "PRAGMA "+p); err != nil {
			b.Fatalf("PRAGMA %s: %v", p, err)
		}
	}
	if _, err := db.ExecContext(ctx, schema(b)); err != nil {
		b.Fatalf("schema: %v", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO accounts (id, plan, created_at) VALUES (?, 'enterprise', 0)", account); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Duration(n) * time.Second)
	for i := range n {
		if _, err := tx.ExecContext(ctx, insertLead, leadArgs(r, i, start.Add(time.Duration(i)*time.Second))...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// Start from an empty log, so that no benchmark pays for the seeding's
	// checkpoint.
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	return db, r
}

// Insert measures the store's CreateLead: one lead inserted in its own
// BEGIN IMMEDIATE transaction, through the unique email index and the
// full-text index, committed durably.
func Insert(b *testing.B, o Opener) {
	db, r := open(b, o, Rows)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	i := Rows
	for b.Loop() {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, insertLead, leadArgs(r, i, time.Now())...); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

const leadColumns = "id, account_id, name, email, phone, company, type, status, source, tags, notes, custom_fields, created_at, updated_at"

// query runs q and reads every column of its rows, as the store does.
func query(b *testing.B, db *sql.DB, want int, q string, args ...any) {
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var (
		s       [12]string
		c, u    int64
		n       int
		scanned = []any{&s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &s[10], &s[11], &c, &u}
	)
	for rows.Next() {
		if err := rows.Scan(scanned...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if n != want {
		b.Fatalf("%d rows; want %d", n, want)
	}
}

// List measures the store's ListLeads: the newest page of 20 (and one more
// row, to learn whether another page follows).
func List(b *testing.B, o Opener) {
	db, _ := open(b, o, Rows)
	b.ReportAllocs()
	for b.Loop() {
		query(b, db, 21, "SELECT "+leadColumns+" FROM leads WHERE account_id = ?"+
			" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", account, 21, 0)
	}
}

// Search measures the store's ListLeads with a one-word search: an FTS5
// prefix query, newest first.
func Search(b *testing.B, o Opener) {
	db, _ := open(b, o, Rows)
	b.ReportAllocs()
	for b.Loop() {
		query(b, db, 21, "SELECT "+leadColumns+" FROM leads WHERE account_id = ?"+
			" AND seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?)"+
			" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", account, `"smi"*`, 21, 0)
	}
}

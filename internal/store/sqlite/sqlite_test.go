package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
	"github.com/axiomkit/axiom/internal/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return db
}

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return open(t, filepath.Join(t.TempDir(), "axiom.db"))
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, Memory) })
}

// Every search plan passes the whole suite on its own.
func TestStoreSearchPlans(t *testing.T) {
	for name, plan := range map[string]searchPlan{"scan": planScan, "index": planIndex, "walk": planWalk, "filter": planFilter} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Store {
				db, err := Open(t.Context(), Memory, Options{plan: plan})
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}

// Each in-memory database is its own.
func TestMemoryDatabasesAreSeparate(t *testing.T) {
	a, b := open(t, Memory), open(t, Memory)
	defer a.Close()
	defer b.Close()
	acc := axiom.NewAccount(axiom.PlanStarter, time.Now())
	if err := a.CreateAccount(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetAccount(t.Context(), acc.ID); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("the second in-memory database has the first's account: %v", err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axiom.db")
	storetest.RunReopen(t, func(t *testing.T) storetest.Store { return open(t, path) })
	db := open(t, path)
	defer db.Close()
	var applied int
	if err := db.r.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Errorf("schema_migrations holds %d rows; want %d", applied, len(ms))
	}
}

// A database migrated by a newer server is refused rather than misread.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db := open(t, path)
	if _, err := db.w.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, path, Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
}

// The connections run with the settings durability and integrity rely on.
func TestSettings(t *testing.T) {
	ctx := t.Context()
	db := open(t, filepath.Join(t.TempDir(), "axiom.db"))
	defer db.Close()
	for _, tc := range []struct {
		name   string
		conn   *sql.DB
		pragma string
		want   string
	}{
		{"writer", db.w, "journal_mode", "wal"},
		{"writer", db.w, "synchronous", "2"}, // FULL
		{"writer", db.w, "foreign_keys", "1"},
		{"writer", db.w, "busy_timeout", "5000"},
		{"reader", db.r, "journal_mode", "wal"},
		{"reader", db.r, "synchronous", "2"},
		{"reader", db.r, "busy_timeout", "5000"},
		{"reader", db.r, "query_only", "1"},
	} {
		var got string
		if err := tc.conn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s: PRAGMA %s = %q, %v; want %q", tc.name, tc.pragma, got, err, tc.want)
		}
	}
	if _, err := db.r.ExecContext(ctx, "INSERT INTO accounts (id, plan, created_at) VALUES ('acc_x', 'starter', 0)"); err == nil {
		t.Errorf("a reader connection wrote")
	}
}

// Processes opening one file share it: each store is one, with its own
// writer, and the lock of the file orders their writes.
func TestStoreShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) []storetest.Store {
		path := filepath.Join(t.TempDir(), "axiom.db")
		return []storetest.Store{open(t, path), open(t, path), open(t, path)}
	})
}

// A database made before the bootstrap marker, with its accounts, counts
// as bootstrapped once migrated.
func TestMigratedDatabaseIsBootstrapped(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db := open(t, path)
	for _, q := range []string{"DELETE FROM bootstrap", "DELETE FROM schema_migrations WHERE version = 4"} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Undo 0004 as far as it matters here, and store an account as a
	// server of before would have.
	for _, q := range []string{"DROP TABLE bootstrap", "DROP INDEX leads_account_id", "ALTER TABLE campaigns DROP COLUMN enqueued",
		"ALTER TABLE campaigns DROP COLUMN enqueue_cursor", "ALTER TABLE campaigns DROP COLUMN enqueue_until",
		"ALTER TABLE idempotency DROP COLUMN token",
		"INSERT INTO accounts (id, plan, created_at) VALUES ('acc_old', 'starter', 1700000000000)"} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path)
	defer db.Close()
	a := axiom.NewAccount(axiom.PlanStarter, time.Now())
	k, _ := axiom.NewKey(a.ID, "first", false, time.Now())
	if done, err := db.Bootstrap(ctx, a, k); err != nil || done {
		t.Errorf("Bootstrap of a migrated database with an account = %v, %v; want false", done, err)
	}
}

func TestNumbered(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"WHERE a = $1 AND b = $2", "WHERE a = ? AND b = ?"},
		{"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
		{"SET a = $1, b = $1 WHERE id = $2", "SET a = ?1, b = ?1 WHERE id = ?2"},
		{"WHERE id = $2 AND a = $1", "WHERE id = ?2 AND a = ?1"},
		{"SET a = '$1', b = $1", "SET a = '$1', b = ?"},
		{"SET a = 'it''s $2', b = $1, c = $2", "SET a = 'it''s $2', b = ?, c = ?"},
		{"SELECT $x, $1", "SELECT $x, ?"},
	} {
		if got := numbered(tc.in); got != tc.want {
			t.Errorf("numbered(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

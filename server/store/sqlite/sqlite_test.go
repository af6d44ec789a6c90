package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/axiomkit/axiom/server/store"
	"github.com/axiomkit/axiom/server/store/storetest"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return db
}

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "axiom.db"))
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, Memory) })
}

// Every search plan passes the whole suite on its own.
func TestStoreSearchPlans(t *testing.T) {
	for name, plan := range map[string]searchPlan{"scan": planScan, "index": planIndex, "walk": planWalk, "filter": planFilter} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
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
	if _, err := a.CreateAccount(t.Context(), store.PlanStarter); err != nil {
		t.Fatal(err)
	}
	if n, err := b.CountAccounts(t.Context()); err != nil || n != 0 {
		t.Errorf("second in-memory database has %d accounts, %v; want 0", n, err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db := open(t, path)
	acc, err := db.CreateAccount(ctx, store.PlanStarter)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := db.CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: "Kept Lead", Email: "kept@example.com", Tags: []string{"durable"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening applies no migration twice and finds the data, index included.
	for range 2 {
		db = open(t, path)
		got, err := db.GetLead(ctx, acc.ID, lead.ID)
		if err != nil || got.Name != "Kept Lead" || !got.CreatedAt.Equal(lead.CreatedAt) {
			t.Errorf("GetLead after reopening = %+v, %v", got, err)
		}
		page, err := db.ListLeads(ctx, acc.ID, store.Query{Page: 1, Limit: 10, Search: "dura"})
		if err != nil || len(page.Leads) != 1 {
			t.Errorf("search after reopening = %d leads, %v; want 1", len(page.Leads), err)
		}
		if _, err := db.CreateLead(ctx, store.Lead{AccountID: acc.ID, Name: "Copy", Email: "KEPT@example.com"}); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("duplicate email after reopening: error = %v; want ErrDuplicate", err)
		}
		var applied, known int
		if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
			t.Fatal(err)
		}
		ms, err := store.LoadMigrations(migrations, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		known = len(ms)
		if applied != known {
			t.Errorf("schema_migrations holds %d rows; want %d", applied, known)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
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

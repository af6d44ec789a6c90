package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/storetest"
)

// A database of before erasure: migration 0010 keys suppression entries
// by their hash and erases what deleted leads left behind.
func TestErasureMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axiom.db")
	storetest.ErasureMigration(t, func(t *testing.T) (storetest.Store, storetest.Raw) {
		db := open(t, path)
		return db, raw{db}
	}, func(goneID string) []string {
		return []string{"DELETE FROM schema_migrations WHERE version = 10",
			"DROP INDEX suppressions_email", "DROP INDEX campaign_messages_lead",
			"UPDATE suppressions SET email_key = lower(email)",
			"ALTER TABLE suppressions DROP COLUMN email_sort", "ALTER TABLE suppressions DROP COLUMN erased_at",
			"ALTER TABLE campaign_messages DROP COLUMN erased_at",
			"INSERT INTO leads_fts (leads_fts, rank) VALUES ('secure-delete', 0)",
			"DELETE FROM leads WHERE id = '" + goneID + "'"}
	})
}

// raw runs statements of $N placeholders on the writer.
type raw struct{ db *DB }

func (r raw) Exec(ctx context.Context, q string, args ...any) error {
	_, err := r.db.w.ExecContext(ctx, numbered(q), args...)
	return err
}

func (r raw) Count(ctx context.Context, q string, args ...any) (n int, err error) {
	return n, r.db.w.QueryRowContext(ctx, numbered(q), args...).Scan(&n)
}

// FTS5's secure-delete is on after the migration, and on again after a
// reset, which turns it off while it empties the tables.
func TestSearchIndexSecureDelete(t *testing.T) {
	ctx := t.Context()
	db := open(t, Memory)
	defer db.Close()
	check := func(when string) {
		t.Helper()
		var v int
		if err := db.w.QueryRowContext(ctx, "SELECT v FROM leads_fts_config WHERE k = 'secure-delete'").Scan(&v); err != nil || v != 1 {
			t.Errorf("secure-delete %s = %d, %v; want 1", when, v, err)
		}
	}
	check("after the migration")
	if err := db.Reset(ctx, axiom.Dataset{}); err != nil {
		t.Fatal(err)
	}
	check("after a reset")
}

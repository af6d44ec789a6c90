package postgres

import (
	"context"
	"testing"

	"github.com/axiomkit/axiom/internal/store/storetest"
)

// A database of before erasure: migration 0009 (SQLite's 0010) keys
// suppression entries by their hash and erases what deleted leads left
// behind.
func TestErasureMigration(t *testing.T) {
	path := freshSchema(t, baseURL(t))
	storetest.ErasureMigration(t, func(t *testing.T) (storetest.Store, storetest.Raw) {
		db := open(t, path)
		return db, raw{db}
	}, func(goneID string) []string {
		return []string{"DELETE FROM schema_migrations WHERE version = 9",
			"DROP INDEX suppressions_email", "DROP INDEX campaign_messages_lead",
			"UPDATE suppressions SET email_key = lower(email)",
			"ALTER TABLE suppressions DROP COLUMN email_sort", "ALTER TABLE suppressions DROP COLUMN erased_at",
			"ALTER TABLE campaign_messages DROP COLUMN erased_at",
			"DELETE FROM leads WHERE id = '" + goneID + "'"}
	})
}

// raw runs statements on the database as they are.
type raw struct{ db *DB }

func (r raw) Exec(ctx context.Context, q string, args ...any) error {
	_, err := r.db.sql.ExecContext(ctx, q, args...)
	return err
}

func (r raw) Count(ctx context.Context, q string, args ...any) (n int, err error) {
	return n, r.db.sql.QueryRowContext(ctx, q, args...).Scan(&n)
}

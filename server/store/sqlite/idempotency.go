package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

// SaveIdempotent stores r, stamping its CreatedAt unless set. A key the
// account already has is store.ErrDuplicate, unless it is older than the
// IdempotencyTTL option: such responses are pruned here first.
func (db *DB) SaveIdempotent(ctx context.Context, r store.IdempotentResponse) error {
	t := now()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM idempotency WHERE created_at < ?", t.Add(-db.ttl).UnixMilli()); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO idempotency (account_id, key, request_hash, status, content_type, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.AccountID, r.Key, r.RequestHash, r.Status, r.ContentType, r.Body, r.CreatedAt.UnixMilli())
		return constraint(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: save idempotent response %q: %w", r.Key, err)
	}
	return nil
}

// GetIdempotent returns the response saved for key in accountID, unless it
// is older than maxAge.
func (db *DB) GetIdempotent(ctx context.Context, accountID, key string, maxAge time.Duration) (store.IdempotentResponse, error) {
	var (
		r       store.IdempotentResponse
		created int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT account_id, key, request_hash, status, content_type, body, created_at
		FROM idempotency WHERE account_id = ? AND key = ? AND created_at >= ?`,
		accountID, key, time.Now().Add(-maxAge).UnixMilli()).
		Scan(&r.AccountID, &r.Key, &r.RequestHash, &r.Status, &r.ContentType, &r.Body, &created)
	if err != nil {
		return store.IdempotentResponse{}, fmt.Errorf("sqlite: get idempotent response %q: %w", key, notFound(err))
	}
	r.CreatedAt = fromMillis(created)
	return r, nil
}

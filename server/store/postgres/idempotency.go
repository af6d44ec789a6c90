package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

// pruneBatch is the most expired responses one save deletes: pruning keeps
// pace with saving without ever making one save slow.
const pruneBatch = 100

// SaveIdempotent stores r, stamping its CreatedAt unless set. A key the
// account already has is store.ErrDuplicate, unless it is older than the
// IdempotencyTTL option: such a response is replaced, and others pruned.
func (db *DB) SaveIdempotent(ctx context.Context, r store.IdempotentResponse) error {
	t := now()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t
	} else {
		r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	expired := t.Add(-db.ttl)
	// SKIP LOCKED: servers pruning at once take disjoint rows, never each
	// other's locks, so they cannot deadlock.
	if _, err := db.pool.Exec(ctx, `DELETE FROM idempotency WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM idempotency WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
		expired, pruneBatch); err != nil {
		return fmt.Errorf("postgres: save idempotent response %q: prune: %w", r.Key, err)
	}
	// An expired response still there under the key is replaced; a live one
	// makes the statement change nothing.
	tag, err := db.pool.Exec(ctx, `INSERT INTO idempotency (account_id, key, request_hash, status, content_type, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status,
			content_type = excluded.content_type, body = excluded.body, created_at = excluded.created_at
		WHERE idempotency.created_at < $8`,
		r.AccountID, r.Key, r.RequestHash, r.Status, r.ContentType, r.Body, r.CreatedAt, expired)
	if err != nil {
		return fmt.Errorf("postgres: save idempotent response %q: %w", r.Key, constraint(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: save idempotent response %q: %w", r.Key, store.ErrDuplicate)
	}
	return nil
}

// GetIdempotent returns the response saved for key in accountID, unless it
// is older than maxAge.
func (db *DB) GetIdempotent(ctx context.Context, accountID, key string, maxAge time.Duration) (store.IdempotentResponse, error) {
	var r store.IdempotentResponse
	err := db.pool.QueryRow(ctx, `SELECT account_id, key, request_hash, status, content_type, body, created_at
		FROM idempotency WHERE account_id = $1 AND key = $2 AND created_at >= $3`,
		accountID, key, time.Now().Add(-maxAge)).
		Scan(&r.AccountID, &r.Key, &r.RequestHash, &r.Status, &r.ContentType, &r.Body, &r.CreatedAt)
	if err != nil {
		return store.IdempotentResponse{}, fmt.Errorf("postgres: get idempotent response %q: %w", key, notFound(err))
	}
	r.CreatedAt = utc(r.CreatedAt)
	return r, nil
}

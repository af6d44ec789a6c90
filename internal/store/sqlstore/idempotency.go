package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/axiomkit/axiom"
)

const (
	idempotencyColumns = "account_id, key, request_hash, status, content_type, body, created_at, token"
	// claimIdempotencySQL inserts a claim, or takes the place of a record
	// that expired or of a claim whose request died; it returns the token
	// only when the claim is made.
	claimIdempotencySQL = `INSERT INTO idempotency (` + idempotencyColumns + `)
		VALUES ($1, $2, $3, 0, '', $4, $5, $6)
		ON CONFLICT (account_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = 0,
			content_type = '', body = excluded.body, created_at = excluded.created_at, token = excluded.token
		WHERE idempotency.created_at <= $7 OR (idempotency.status = 0 AND idempotency.created_at <= $8)
		RETURNING token`
)

// ClaimIdempotencyKey claims r.Key for r.AccountID, made at r.CreatedAt,
// unless the account holds a live record of the key: one younger than
// ttl, answered or claimed less than stale ago. It returns the record
// held and whether it is r's claim.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord, ttl, stale time.Duration) (axiom.IdempotencyRecord, bool, error) {
	if r.Token == "" {
		return axiom.IdempotencyRecord{}, false, s.errorf(errors.New("the claim has no token"), "claim idempotency key %q", r.Key)
	}
	r.CreatedAt = axiom.StoreTime(r.CreatedAt)
	r.Status, r.ContentType, r.Body = 0, "", []byte{}
	expired, abandoned := r.CreatedAt.Add(-ttl), r.CreatedAt.Add(-stale)
	// A record released between the claim and the read is claimed again.
	for attempt := 0; ; attempt++ {
		won := false
		err := s.write(ctx, false, func(c Conn) error {
			if _, err := c.ExecContext(ctx, s.sql.pruneIdempotency, s.arg(expired)); err != nil {
				return err
			}
			var token string
			err := c.QueryRowContext(ctx, claimIdempotencySQL, r.AccountID, r.Key, r.RequestHash, r.Body,
				s.arg(r.CreatedAt), r.Token, s.arg(expired), s.arg(abandoned)).Scan(&token)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			won = err == nil
			return err
		})
		if s.violation(err) == ForeignKey {
			err = accountNotFound(r.AccountID)
		}
		if err != nil {
			return axiom.IdempotencyRecord{}, false, s.errorf(err, "claim idempotency key %q", r.Key)
		}
		if won {
			return r, true, nil
		}
		held, err := s.GetIdempotencyKey(ctx, r.AccountID, r.Key)
		if errors.Is(err, axiom.ErrNotFound) && attempt < 3 {
			continue
		}
		return held, false, err
	}
}

// GetIdempotencyKey returns the record of the key.
func (s *Store) GetIdempotencyKey(ctx context.Context, accountID, key string) (axiom.IdempotencyRecord, error) {
	var (
		r       axiom.IdempotencyRecord
		created Time
	)
	err := s.read().QueryRowContext(ctx, "SELECT "+idempotencyColumns+" FROM idempotency WHERE account_id = $1 AND key = $2",
		accountID, key).Scan(&r.AccountID, &r.Key, &r.RequestHash, &r.Status, &r.ContentType, &r.Body, &created, &r.Token)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.Errorf(axiom.CodeNotFound, "No record of the idempotency key '%s'", key)
	}
	if err != nil {
		return axiom.IdempotencyRecord{}, s.errorf(err, "get idempotency key %q", key)
	}
	r.CreatedAt = created.Time
	return r, nil
}

// CompleteIdempotencyKey stores the answer of the claim r.Token holds.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord) error {
	if r.Token == "" {
		return s.errorf(errors.New("the claim has no token"), "complete idempotency key %q", r.Key)
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, `UPDATE idempotency SET status = $1, content_type = $2, body = $3
			WHERE account_id = $4 AND key = $5 AND token = $6`, r.Status, r.ContentType, r.Body, r.AccountID, r.Key, r.Token))
		if err == nil && n == 0 {
			err = axiom.Errorf(axiom.CodeNotFound, "The claim of the idempotency key '%s' was lost", r.Key)
		}
		return err
	})
	return s.errorf(err, "complete idempotency key %q", r.Key)
}

// ReleaseIdempotencyKey deletes the unanswered claim token holds.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, accountID, key, token string) error {
	err := s.write(ctx, false, func(c Conn) error {
		_, err := c.ExecContext(ctx, "DELETE FROM idempotency WHERE account_id = $1 AND key = $2 AND token = $3 AND status = 0",
			accountID, key, token)
		return err
	})
	return s.errorf(err, "release idempotency key %q", key)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/server/store"
)

// CreateAccount stores a new account on plan.
func (db *DB) CreateAccount(ctx context.Context, plan store.Plan) (store.Account, error) {
	t := now()
	a := store.Account{ID: store.NewID("acc_", t), Plan: plan, CreatedAt: t}
	if _, err := db.pool.Exec(ctx, "INSERT INTO accounts (id, plan, created_at) VALUES ($1, $2, $3)",
		a.ID, string(a.Plan), t); err != nil {
		return store.Account{}, fmt.Errorf("postgres: create account: %w", constraint(err))
	}
	return a, nil
}

// GetAccount returns the account id.
func (db *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	var (
		a    store.Account
		plan string
	)
	err := db.pool.QueryRow(ctx, "SELECT id, plan, created_at FROM accounts WHERE id = $1", id).
		Scan(&a.ID, &plan, &a.CreatedAt)
	if err != nil {
		return store.Account{}, fmt.Errorf("postgres: get account %q: %w", id, notFound(err))
	}
	a.Plan, a.CreatedAt = store.Plan(plan), utc(a.CreatedAt)
	return a, nil
}

// CountAccounts returns how many accounts there are.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count accounts: %w", err)
	}
	return n, nil
}

// CreateKey stores k, stamping its CreatedAt unless set; a taken id or hash
// is store.ErrDuplicate, an unknown account store.ErrNotFound.
func (db *DB) CreateKey(ctx context.Context, k store.Key) (store.Key, error) {
	if k.ID == "" || k.AccountID == "" || len(k.Hash) == 0 || k.Hint == "" {
		return store.Key{}, errors.New("postgres: create key: ID, AccountID, Hash and Hint must be set")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	} else {
		k.CreatedAt = k.CreatedAt.UTC().Truncate(time.Millisecond)
	}
	if k.RevokedAt != nil {
		t := k.RevokedAt.UTC().Truncate(time.Millisecond)
		k.RevokedAt = &t
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (id, account_id, name, hash, hint, read_only, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.AccountID, k.Name, k.Hash, k.Hint, k.ReadOnly, k.CreatedAt, k.RevokedAt)
	if err != nil {
		return store.Key{}, fmt.Errorf("postgres: create key: %w", constraint(err))
	}
	return k, nil
}

const keyColumns = "k.id, k.account_id, k.name, k.hash, k.hint, k.read_only, k.created_at, k.revoked_at"

func scanKey(row pgx.Row, extra ...any) (store.Key, error) {
	var k store.Key
	dest := append([]any{&k.ID, &k.AccountID, &k.Name, &k.Hash, &k.Hint, &k.ReadOnly, &k.CreatedAt, &k.RevokedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Key{}, err
	}
	k.CreatedAt = utc(k.CreatedAt)
	if k.RevokedAt != nil {
		t := utc(*k.RevokedAt)
		k.RevokedAt = &t
	}
	return k, nil
}

// KeyByHash returns the key whose secret hashes to hash, and its account.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (store.Key, store.Account, error) {
	var (
		a    store.Account
		plan string
	)
	row := db.pool.QueryRow(ctx, "SELECT "+keyColumns+", a.id, a.plan, a.created_at"+
		" FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.hash = $1", hash)
	k, err := scanKey(row, &a.ID, &plan, &a.CreatedAt)
	if err != nil {
		return store.Key{}, store.Account{}, fmt.Errorf("postgres: key by hash: %w", notFound(err))
	}
	a.Plan, a.CreatedAt = store.Plan(plan), utc(a.CreatedAt)
	return k, a, nil
}

// ListKeys lists the keys of accountID, or of every account if it is "",
// oldest first.
func (db *DB) ListKeys(ctx context.Context, accountID string) ([]store.Key, error) {
	q := "SELECT " + keyColumns + " FROM api_keys k"
	var args []any
	if accountID != "" {
		q += " WHERE k.account_id = $1"
		args = append(args, accountID)
	}
	q += " ORDER BY k.created_at, k.id"
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Key, error) { return scanKey(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey marks the key id revoked; revoking it again keeps the first time.
func (db *DB) RevokeKey(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", now(), id)
	if err != nil {
		return fmt.Errorf("postgres: revoke key %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke key %q: %w", id, store.ErrNotFound)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

// CreateAccount stores a new account on plan.
func (db *DB) CreateAccount(ctx context.Context, plan store.Plan) (store.Account, error) {
	t := now()
	a := store.Account{ID: store.NewID("acc_", t), Plan: plan, CreatedAt: t}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO accounts (id, plan, created_at) VALUES (?, ?, ?)",
			a.ID, string(a.Plan), t.UnixMilli())
		return constraint(err)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlite: create account: %w", err)
	}
	return a, nil
}

// GetAccount returns the account id.
func (db *DB) GetAccount(ctx context.Context, id string) (store.Account, error) {
	var (
		a       store.Account
		plan    string
		created int64
	)
	err := db.r.QueryRowContext(ctx, "SELECT id, plan, created_at FROM accounts WHERE id = ?", id).
		Scan(&a.ID, &plan, &created)
	if err != nil {
		return store.Account{}, fmt.Errorf("sqlite: get account %q: %w", id, notFound(err))
	}
	a.Plan, a.CreatedAt = store.Plan(plan), fromMillis(created)
	return a, nil
}

// CountAccounts returns how many accounts there are.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count accounts: %w", err)
	}
	return n, nil
}

// CreateKey stores k, stamping its CreatedAt unless set; a taken id or hash
// is store.ErrDuplicate, an unknown account store.ErrNotFound.
func (db *DB) CreateKey(ctx context.Context, k store.Key) (store.Key, error) {
	if k.ID == "" || k.AccountID == "" || len(k.Hash) == 0 || k.Hint == "" {
		return store.Key{}, errors.New("sqlite: create key: ID, AccountID, Hash and Hint must be set")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	} else {
		k.CreatedAt = k.CreatedAt.UTC().Truncate(time.Millisecond)
	}
	var revoked sql.NullInt64
	if k.RevokedAt != nil {
		t := k.RevokedAt.UTC().Truncate(time.Millisecond)
		k.RevokedAt = &t
		revoked = sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, account_id, name, hash, hint, read_only, created_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, k.Name, k.Hash, k.Hint, k.ReadOnly, k.CreatedAt.UnixMilli(), revoked)
		return constraint(err)
	})
	if err != nil {
		return store.Key{}, fmt.Errorf("sqlite: create key: %w", err)
	}
	return k, nil
}

const keyColumns = "k.id, k.account_id, k.name, k.hash, k.hint, k.read_only, k.created_at, k.revoked_at"

func scanKey(row interface{ Scan(...any) error }, extra ...any) (store.Key, error) {
	var (
		k       store.Key
		created int64
		revoked sql.NullInt64
	)
	dest := append([]any{&k.ID, &k.AccountID, &k.Name, &k.Hash, &k.Hint, &k.ReadOnly, &created, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Key{}, err
	}
	k.CreatedAt = fromMillis(created)
	if revoked.Valid {
		t := fromMillis(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}

// KeyByHash returns the key whose secret hashes to hash, and its account.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (store.Key, store.Account, error) {
	var (
		a       store.Account
		plan    string
		created int64
	)
	row := db.stmts[keyByHashSQL].QueryRowContext(ctx, hash)
	k, err := scanKey(row, &a.ID, &plan, &created)
	if err != nil {
		return store.Key{}, store.Account{}, fmt.Errorf("sqlite: key by hash: %w", notFound(err))
	}
	a.Plan, a.CreatedAt = store.Plan(plan), fromMillis(created)
	return k, a, nil
}

// ListKeys lists the keys of accountID, or of every account if it is "",
// oldest first.
func (db *DB) ListKeys(ctx context.Context, accountID string) ([]store.Key, error) {
	q := "SELECT " + keyColumns + " FROM api_keys k"
	var args []any
	if accountID != "" {
		q += " WHERE k.account_id = ?"
		args = append(args, accountID)
	}
	q += " ORDER BY k.created_at, k.id"
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	defer rows.Close()
	keys := []store.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey marks the key id revoked; revoking it again keeps the first time.
func (db *DB) RevokeKey(ctx context.Context, id string) error {
	t := now().UnixMilli()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return affected(tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", t, id))
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke key %q: %w", id, err)
	}
	return nil
}

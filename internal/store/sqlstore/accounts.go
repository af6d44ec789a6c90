package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/axiomkit/axiom"
)

const (
	keyColumns   = "k.id, k.account_id, k.name, k.hash, k.hint, k.read_only, k.created_at, k.revoked_at"
	keyByHashSQL = "SELECT " + keyColumns + ", a.id, a.plan, a.created_at" +
		" FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.hash = $1"
	insertAccountSQL = "INSERT INTO accounts (id, plan, created_at) VALUES ($1, $2, $3)"
	insertKeySQL     = `INSERT INTO api_keys (id, account_id, name, hash, hint, read_only, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// Bootstrap stores a and k if the database has never held an account. The
// one row of bootstrap is the mark of the first: of processes inserting it
// at once, one does and the others wait for it, then find it there.
func (s *Store) Bootstrap(ctx context.Context, a axiom.Account, k axiom.Key) (bool, error) {
	var done bool
	err := s.write(ctx, true, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx,
			"INSERT INTO bootstrap (id, bootstrapped_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", s.arg(a.CreatedAt)))
		if err != nil || n == 0 {
			return err
		}
		// A database given accounts another way counts as bootstrapped.
		n, err = affected(c.ExecContext(ctx, "INSERT INTO accounts (id, plan, created_at) SELECT $1, $2, $3"+
			" WHERE NOT EXISTS (SELECT 1 FROM accounts)", a.ID, string(a.Plan), s.arg(a.CreatedAt)))
		if err != nil || n == 0 {
			return err
		}
		if _, err := c.ExecContext(ctx, insertKeySQL, s.keyArgs(k)...); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, s.errorf(err, "bootstrap")
	}
	return done, nil
}

// CreateAccount stores a.
func (s *Store) CreateAccount(ctx context.Context, a axiom.Account) error {
	err := s.write(ctx, false, func(c Conn) error {
		_, err := c.ExecContext(ctx, insertAccountSQL, a.ID, string(a.Plan), s.arg(a.CreatedAt))
		return err
	})
	if s.violation(err) == Unique {
		err = axiom.Errorf(axiom.CodeDuplicateEntry, "An account with id '%s' already exists", a.ID)
	}
	return s.errorf(err, "create account")
}

// GetAccount returns account id.
func (s *Store) GetAccount(ctx context.Context, id string) (axiom.Account, error) {
	var (
		a       axiom.Account
		created Time
	)
	err := s.read().QueryRowContext(ctx, "SELECT id, plan, created_at FROM accounts WHERE id = $1", id).Scan(&a.ID, &a.Plan, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = accountNotFound(id)
	}
	if err != nil {
		return axiom.Account{}, s.errorf(err, "get account %q", id)
	}
	a.CreatedAt = created.Time
	return a, nil
}

func (s *Store) keyArgs(k axiom.Key) []any {
	return []any{k.ID, k.AccountID, k.Name, k.Hash, k.Hint, k.ReadOnly, s.arg(k.CreatedAt), s.nullArg(k.RevokedAt)}
}

// CreateKey stores k; a taken id or hash is a duplicate, an unknown account
// not found.
func (s *Store) CreateKey(ctx context.Context, k axiom.Key) error {
	if k.ID == "" || k.AccountID == "" || len(k.Hash) == 0 || k.Hint == "" {
		return s.errorf(errors.New("ID, AccountID, Hash and Hint must be set"), "create key")
	}
	err := s.write(ctx, false, func(c Conn) error {
		_, err := c.ExecContext(ctx, insertKeySQL, s.keyArgs(k)...)
		return err
	})
	switch s.violation(err) {
	case Unique:
		err = axiom.Errorf(axiom.CodeDuplicateEntry, "The key's id or secret is taken")
	case ForeignKey:
		err = accountNotFound(k.AccountID)
	}
	return s.errorf(err, "create key")
}

func scanKey(row Scanner, extra ...any) (axiom.Key, error) {
	var v struct {
		k                axiom.Key
		created, revoked Time
	}
	k := &v.k
	dest := append([]any{&k.ID, &k.AccountID, &k.Name, &k.Hash, &k.Hint, &k.ReadOnly, &v.created, &v.revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return axiom.Key{}, err
	}
	k.CreatedAt, k.RevokedAt = v.created.Time, v.revoked.Ptr()
	return *k, nil
}

// KeyByHash returns the key whose secret hashes to hash, and its account.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (axiom.Key, axiom.Account, error) {
	var (
		a       axiom.Account
		created Time
	)
	k, err := scanKey(s.read().QueryRowContext(ctx, keyByHashSQL, hash), &a.ID, &a.Plan, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.Errorf(axiom.CodeNotFound, "No key has this secret")
	}
	if err != nil {
		return axiom.Key{}, axiom.Account{}, s.errorf(err, "key by hash")
	}
	a.CreatedAt = created.Time
	return k, a, nil
}

// ListKeys lists the keys of accountID, or of every account if it is "",
// oldest first.
func (s *Store) ListKeys(ctx context.Context, accountID string) ([]axiom.Key, error) {
	query := "SELECT " + keyColumns + " FROM api_keys k"
	var args []any
	if accountID != "" {
		query += " WHERE k.account_id = $1"
		args = append(args, accountID)
	}
	rows, err := s.read().QueryContext(ctx, query+" ORDER BY k.created_at, k.id", args...)
	keys, err := collect(rows, err, 0, func(row Scanner) (axiom.Key, error) { return scanKey(row) })
	return keys, s.errorf(err, "list keys")
}

// RevokeKey marks key id revoked at at; revoking it again keeps the first time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", s.arg(at), id))
		if err == nil && n == 0 {
			err = axiom.Errorf(axiom.CodeNotFound, "No key with id '%s'", id)
		}
		return err
	})
	return s.errorf(err, "revoke key %q", id)
}

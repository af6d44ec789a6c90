package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/axiomkit/axiom"
)

const (
	suppressionColumns = "account_id, email_key, email, reason, detail, coalesce(campaign_id, ''), created_at, erased_at"
	// insertSuppressionSQL adds an entry unless the account has the
	// address already (erased or not): the first reason stays.
	insertSuppressionSQL = `INSERT INTO suppressions (account_id, email_key, email, reason, detail, campaign_id, created_at, email_sort)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, email_key) DO NOTHING`
	getSuppressionSQL = "SELECT " + suppressionColumns + " FROM suppressions WHERE account_id = $1 AND email_key = $2"
	// suppressedPerQuery bounds the keys one lookup names.
	suppressedPerQuery = 500
)

func scanSuppression(row Scanner) (axiom.Suppression, error) {
	var v struct {
		s               axiom.Suppression
		created, erased Time
	}
	s := &v.s
	if err := row.Scan(&s.AccountID, &s.Key, &s.Email, &s.Reason, &s.Detail, &s.CampaignID, &v.created, &v.erased); err != nil {
		return axiom.Suppression{}, err
	}
	s.CreatedAt, s.ErasedAt = v.created.Time, v.erased.Ptr()
	return *s, nil
}

// suppressionArgs are the arguments of insertSuppressionSQL.
func (s *Store) suppressionArgs(sup axiom.Suppression) []any {
	var campaign any
	if sup.CampaignID != "" {
		campaign = sup.CampaignID
	}
	return []any{sup.AccountID, sup.Key, sup.Email, string(sup.Reason), sup.Detail, campaign, s.arg(sup.CreatedAt), axiom.SortKey(sup.Email)}
}

// AddSuppression adds sup to its account's list unless the account has its
// address already, and returns the entry the list holds and whether it is
// sup.
func (s *Store) AddSuppression(ctx context.Context, sup axiom.Suppression) (axiom.Suppression, bool, error) {
	if sup.AccountID == "" || sup.Key == "" {
		return axiom.Suppression{}, false, s.errorf(errors.New("AccountID and Key must be set"), "add suppression")
	}
	var (
		stored axiom.Suppression
		added  bool
	)
	err := s.write(ctx, true, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, insertSuppressionSQL, s.suppressionArgs(sup)...))
		if err != nil {
			return err
		}
		added = n == 1
		stored, err = scanSuppression(c.QueryRowContext(ctx, getSuppressionSQL, sup.AccountID, sup.Key))
		return err
	})
	if s.violation(err) == ForeignKey {
		err = accountNotFound(sup.AccountID)
	}
	if err != nil {
		return axiom.Suppression{}, false, s.errorf(err, "add suppression")
	}
	return stored, added, nil
}

// GetSuppression returns the account's entry of email, compared by
// axiom.SuppressionKey: an erased entry too.
func (s *Store) GetSuppression(ctx context.Context, accountID, email string) (axiom.Suppression, error) {
	sup, err := scanSuppression(s.read().QueryRowContext(ctx, getSuppressionSQL, accountID, axiom.SuppressionKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.SuppressionNotFound(email)
	}
	if err != nil {
		return axiom.Suppression{}, s.errorf(err, "get suppression")
	}
	return sup, nil
}

// ListSuppressions returns one page of the account's entries, those of
// reason only if it is set, in q's order, ties broken by address.
func (s *Store) ListSuppressions(ctx context.Context, accountID string, q axiom.Query, reason axiom.SuppressionReason) (axiom.Page[axiom.Suppression], error) {
	o, err := order(q, suppressionSorts)
	if err != nil {
		return axiom.Page[axiom.Suppression]{}, s.errorf(err, "list suppressions")
	}
	query := "SELECT " + suppressionColumns + " FROM suppressions WHERE account_id = $1"
	args := []any{accountID}
	if reason != "" {
		query += " AND reason = $2"
		args = append(args, string(reason))
	}
	query += fmt.Sprintf("%s LIMIT $%d OFFSET $%d", o.By("email_key"), len(args)+1, len(args)+2)
	p, err := listPage(ctx, s, q, scanSuppression, query, args...)
	return p, s.errorf(err, "list suppressions")
}

// DeleteSuppression removes the account's entry of email: the address may
// be mailed again.
func (s *Store) DeleteSuppression(ctx context.Context, accountID, email string) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, "DELETE FROM suppressions WHERE account_id = $1 AND email_key = $2",
			accountID, axiom.SuppressionKey(email)))
		if err == nil && n == 0 {
			err = axiom.SuppressionNotFound(email)
		}
		return err
	})
	return s.errorf(err, "delete suppression")
}

// Suppressed returns the reason of each of keys (axiom.SuppressionKey forms) the
// account has suppressed; the others are absent.
func (s *Store) Suppressed(ctx context.Context, accountID string, keys []string) (map[string]axiom.SuppressionReason, error) {
	out := map[string]axiom.SuppressionReason{}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for chunk := range slices.Chunk(keys, suppressedPerQuery) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, accountID)
		marks := make([]string, len(chunk))
		for i, k := range chunk {
			args = append(args, k)
			marks[i] = fmt.Sprintf("$%d", i+2)
		}
		// Built for each length, the statement is rebound but not kept.
		c := s.read()
		rows, err := c.q.QueryContext(ctx, s.rebind("SELECT email_key, reason FROM suppressions WHERE account_id = $1 AND email_key IN ("+
			strings.Join(marks, ", ")+")"), args...)
		pairs, err := collect(rows, err, 0, func(row Scanner) ([2]string, error) {
			var p [2]string
			return p, row.Scan(&p[0], &p[1])
		})
		if err != nil {
			return nil, s.errorf(err, "suppressed addresses")
		}
		for _, p := range pairs {
			out[p[0]] = axiom.SuppressionReason(p[1])
		}
	}
	return out, nil
}

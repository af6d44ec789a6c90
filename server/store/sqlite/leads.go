package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/axiomkit/axiom/server/store"
)

// execer is what inserting a lead needs: a transaction or a connection.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const leadColumns = "id, account_id, name, email, phone, company, type, status, source, tags, notes, custom_fields, created_at, updated_at"

// leadSorts maps the sort fields of leads to their columns.
var leadSorts = map[string]string{
	"created_at": "created_at",
	"updated_at": "updated_at",
	"name":       "name_sort",
	"email":      "email_sort",
}

// CreateLead stores l with a new id and times; an email the account already
// has, in any case, is store.ErrDuplicate.
func (db *DB) CreateLead(ctx context.Context, l store.Lead) (store.Lead, error) {
	t := now()
	l.ID = store.NewLeadID(t)
	l.CreatedAt, l.UpdatedAt = t, t
	l = l.Normalized()
	args, err := leadArgs(l)
	if err != nil {
		return store.Lead{}, fmt.Errorf("sqlite: create lead: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, insertLeadSQL, args...)
		return constraint(err)
	})
	if err != nil {
		return store.Lead{}, fmt.Errorf("sqlite: create lead: %w", err)
	}
	return l, nil
}

// insertLead inserts the normalized lead l as it is.
func insertLead(ctx context.Context, e execer, l store.Lead) (sql.Result, error) {
	args, err := leadArgs(l)
	if err != nil {
		return nil, err
	}
	res, err := e.ExecContext(ctx, insertLeadSQL, args...)
	return res, constraint(err)
}

// leadArgs are the arguments of insertLeadSQL for the normalized lead l.
func leadArgs(l store.Lead) ([]any, error) {
	c, err := leadRow(l)
	if err != nil {
		return nil, err
	}
	return []any{l.ID, l.AccountID, l.Name, l.Email, c.emailKey, c.nameSort, c.emailSort,
		l.Phone, l.Company, l.Type, l.Status, l.Source, c.tags, c.notes, c.custom, c.search,
		l.CreatedAt.UnixMilli(), l.UpdatedAt.UnixMilli()}, nil
}

// derived holds the columns computed from a lead.
type derived struct {
	emailKey, nameSort, emailSort string
	tags, notes, custom           string
	search                        string
}

func leadRow(l store.Lead) (derived, error) {
	tags, err := json.Marshal(l.Tags)
	if err != nil {
		return derived{}, err
	}
	notes, err := json.Marshal(l.Notes)
	if err != nil {
		return derived{}, err
	}
	custom, err := json.Marshal(l.CustomFields)
	if err != nil {
		return derived{}, err
	}
	return derived{
		emailKey:  store.EmailKey(l.Email),
		nameSort:  store.SortKey(l.Name),
		emailSort: store.SortKey(l.Email),
		tags:      string(tags),
		notes:     string(notes),
		custom:    string(custom),
		search:    searchText(l),
	}, nil
}

// searchText is what the full-text index holds for l: the words of its
// name, email, company, phone and tags, split and lower-cased the way
// store.SearchWords splits a query, so that both sides agree on what a word is.
func searchText(l store.Lead) string {
	var words []string
	for _, f := range []string{l.Name, l.Email, l.Company, l.Phone} {
		words = append(words, store.SearchWords(f)...)
	}
	for _, t := range l.Tags {
		words = append(words, store.SearchWords(t)...)
	}
	return strings.Join(words, " ")
}

func scanLead(row interface{ Scan(...any) error }) (store.Lead, error) {
	var (
		l                    store.Lead
		tags, notes, custom  string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&l.ID, &l.AccountID, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Type, &l.Status, &l.Source,
		&tags, &notes, &custom, &createdAt, &updatedAt); err != nil {
		return store.Lead{}, err
	}
	if err := json.Unmarshal([]byte(tags), &l.Tags); err != nil {
		return store.Lead{}, fmt.Errorf("lead %s tags: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(notes), &l.Notes); err != nil {
		return store.Lead{}, fmt.Errorf("lead %s notes: %w", l.ID, err)
	}
	if err := json.Unmarshal([]byte(custom), &l.CustomFields); err != nil {
		return store.Lead{}, fmt.Errorf("lead %s custom fields: %w", l.ID, err)
	}
	l.CreatedAt, l.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return l.Normalized(), nil
}

// GetLead returns the lead id of accountID.
func (db *DB) GetLead(ctx context.Context, accountID, id string) (store.Lead, error) {
	l, err := scanLead(db.r.QueryRowContext(ctx,
		"SELECT "+leadColumns+" FROM leads WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return store.Lead{}, fmt.Errorf("sqlite: get lead %q: %w", id, notFound(err))
	}
	return l, nil
}

// UpdateLead changes the fields p sets of the lead id of accountID.
func (db *DB) UpdateLead(ctx context.Context, accountID, id string, p store.LeadPatch) (store.Lead, error) {
	var l store.Lead
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = scanLead(tx.QueryRowContext(ctx,
			"SELECT "+leadColumns+" FROM leads WHERE id = ? AND account_id = ?", id, accountID))
		if err != nil {
			return notFound(err)
		}
		l = p.Apply(l)
		l.UpdatedAt = now()
		c, err := leadRow(l)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE leads SET name = ?, email = ?, email_key = ?, name_sort = ?, email_sort = ?,
			phone = ?, company = ?, type = ?, status = ?, source = ?, tags = ?, notes = ?, custom_fields = ?,
			search_text = ?, updated_at = ?
			WHERE id = ? AND account_id = ?`,
			l.Name, l.Email, c.emailKey, c.nameSort, c.emailSort,
			l.Phone, l.Company, l.Type, l.Status, l.Source, c.tags, c.notes, c.custom,
			c.search, l.UpdatedAt.UnixMilli(), id, accountID)
		return constraint(err)
	})
	if err != nil {
		return store.Lead{}, fmt.Errorf("sqlite: update lead %q: %w", id, err)
	}
	return l, nil
}

// DeleteLead deletes the lead id of accountID.
func (db *DB) DeleteLead(ctx context.Context, accountID, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		return affected(tx.ExecContext(ctx, "DELETE FROM leads WHERE id = ? AND account_id = ?", id, accountID))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete lead %q: %w", id, err)
	}
	return nil
}

// ListLeads returns one page of the leads of accountID that match q.Search,
// in q's order, ties broken by id in the same direction.
func (db *DB) ListLeads(ctx context.Context, accountID string, q store.Query) (store.LeadPage, error) {
	col, err := sortColumn(q, leadSorts)
	if err != nil {
		return store.LeadPage{}, err
	}
	dir, limit, offset, err := page(q)
	if err != nil {
		return store.LeadPage{}, err
	}
	if words := store.SearchWords(q.Search); len(words) > 0 {
		p, err := db.searchLeads(ctx, accountID, q, col, dir, words)
		if err != nil {
			return store.LeadPage{}, fmt.Errorf("sqlite: list leads: %w", err)
		}
		return p, nil
	}
	// The inner query finds the page in the sort index alone, so that the
	// leads an offset skips are never read; col and dir come from fixed
	// lists, never from the query's text.
	order := " ORDER BY " + col + dir + ", id" + dir
	rows, err := db.r.QueryContext(ctx, "SELECT "+leadColumns+" FROM leads WHERE seq IN ("+
		"SELECT seq FROM leads WHERE account_id = ?"+order+" LIMIT ? OFFSET ?)"+order, accountID, limit, offset)
	if err != nil {
		return store.LeadPage{}, fmt.Errorf("sqlite: list leads: %w", err)
	}
	defer rows.Close()
	leads := make([]store.Lead, 0, min(limit, 101))
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return store.LeadPage{}, fmt.Errorf("sqlite: list leads: %w", err)
		}
		leads = append(leads, l)
	}
	if err := rows.Err(); err != nil {
		return store.LeadPage{}, fmt.Errorf("sqlite: list leads: %w", err)
	}
	p := store.LeadPage{Leads: leads}
	if len(leads) > q.Limit {
		p.Leads, p.HasMore = leads[:q.Limit], true
	}
	return p, nil
}

// matchExpr is the FTS5 query asking for every word as a prefix: each is a
// quoted string (so that no word is read as an operator or column name)
// followed by *. It is "" when there is no word.
func matchExpr(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + strings.ReplaceAll(w, `"`, `""`) + `"*`)
	}
	return b.String()
}

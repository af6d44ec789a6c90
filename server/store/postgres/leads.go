package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/server/store"
)

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
	_, err := db.pool.Exec(ctx, `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
		phone, company, type, status, source, tags, notes, custom_fields, search, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, array_to_tsvector($16::text[]), $17, $18)`,
		l.ID, l.AccountID, l.Name, l.Email, store.EmailKey(l.Email), store.SortKey(l.Name), store.SortKey(l.Email),
		l.Phone, l.Company, l.Type, l.Status, l.Source, l.Tags, l.Notes, l.CustomFields, searchWords(l),
		l.CreatedAt, l.UpdatedAt)
	if err != nil {
		return store.Lead{}, fmt.Errorf("postgres: create lead: %w", constraint(err))
	}
	return l, nil
}

// maxLexeme is the longest lexeme, in bytes, that PostgreSQL keeps intact
// (longer ones are corrupted by array_to_tsvector, refused in a tsquery).
const maxLexeme = 2047

// lexeme cuts w to maxLexeme bytes, on a character boundary. Only words
// longer than any field the API accepts are cut; a query word cut the same
// way still begins the cut word it began.
func lexeme(w string) string {
	if len(w) <= maxLexeme {
		return w
	}
	i := maxLexeme
	for i > 0 && !utf8.RuneStart(w[i]) {
		i--
	}
	return w[:i]
}

// searchWords are the lexemes the search index holds for l: the words of
// its name, email, company, phone and tags, split and lower-cased by
// store.SearchWords, as a query is, so that both sides agree on what a word is.
func searchWords(l store.Lead) []string {
	words := []string{} // never nil, which pgx would send as NULL
	for _, f := range append([]string{l.Name, l.Email, l.Company, l.Phone}, l.Tags...) {
		for _, w := range store.SearchWords(f) {
			words = append(words, lexeme(w))
		}
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// tsquery is the text search query asking for every word as a prefix: each
// a quoted lexeme (so that no word is read as an operator) followed by :*,
// joined by &. It is "" when there is no word. The query is sent as a bound
// parameter and cast to tsquery, which takes the lexemes as they are.
func tsquery(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" & ")
		}
		w = strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(lexeme(w))
		b.WriteString("'" + w + "':*")
	}
	return b.String()
}

func scanLead(row pgx.Row) (store.Lead, error) {
	var l store.Lead
	if err := row.Scan(&l.ID, &l.AccountID, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Type, &l.Status, &l.Source,
		&l.Tags, &l.Notes, &l.CustomFields, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return store.Lead{}, err
	}
	l.CreatedAt, l.UpdatedAt = utc(l.CreatedAt), utc(l.UpdatedAt)
	return l.Normalized(), nil
}

// GetLead returns the lead id of accountID.
func (db *DB) GetLead(ctx context.Context, accountID, id string) (store.Lead, error) {
	l, err := scanLead(db.pool.QueryRow(ctx,
		"SELECT "+leadColumns+" FROM leads WHERE id = $1 AND account_id = $2", id, accountID))
	if err != nil {
		return store.Lead{}, fmt.Errorf("postgres: get lead %q: %w", id, notFound(err))
	}
	return l, nil
}

// UpdateLead changes the fields p sets of the lead id of accountID. The row
// is locked from the read to the write, so that concurrent patches of one
// lead, from any server, each apply to the result of the one before.
func (db *DB) UpdateLead(ctx context.Context, accountID, id string, p store.LeadPatch) (store.Lead, error) {
	var l store.Lead
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		l, err = scanLead(tx.QueryRow(ctx,
			"SELECT "+leadColumns+" FROM leads WHERE id = $1 AND account_id = $2 FOR UPDATE", id, accountID))
		if err != nil {
			return notFound(err)
		}
		l = p.Apply(l)
		l.UpdatedAt = now()
		_, err = tx.Exec(ctx, `UPDATE leads SET name = $1, email = $2, email_key = $3, name_sort = $4, email_sort = $5,
			phone = $6, company = $7, type = $8, status = $9, source = $10, tags = $11, notes = $12, custom_fields = $13,
			search = array_to_tsvector($14::text[]), updated_at = $15
			WHERE id = $16 AND account_id = $17`,
			l.Name, l.Email, store.EmailKey(l.Email), store.SortKey(l.Name), store.SortKey(l.Email),
			l.Phone, l.Company, l.Type, l.Status, l.Source, l.Tags, l.Notes, l.CustomFields,
			searchWords(l), l.UpdatedAt, id, accountID)
		return constraint(err)
	})
	if err != nil {
		return store.Lead{}, fmt.Errorf("postgres: update lead %q: %w", id, err)
	}
	return l, nil
}

// DeleteLead deletes the lead id of accountID.
func (db *DB) DeleteLead(ctx context.Context, accountID, id string) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM leads WHERE id = $1 AND account_id = $2", id, accountID)
	if err != nil {
		return fmt.Errorf("postgres: delete lead %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete lead %q: %w", id, store.ErrNotFound)
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
	query := "SELECT " + leadColumns + " FROM leads WHERE account_id = $1"
	args := []any{accountID}
	if tq := tsquery(store.SearchWords(q.Search)); tq != "" {
		query += " AND search @@ $2::tsquery"
		args = append(args, tq)
	}
	// col and dir come from fixed lists, never from the query's text.
	query += fmt.Sprintf(" ORDER BY %s%s, id%s LIMIT $%d OFFSET $%d", col, dir, dir, len(args)+1, len(args)+2)
	args = append(args, limit, offset)

	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return store.LeadPage{}, fmt.Errorf("postgres: list leads: %w", err)
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Lead, error) { return scanLead(row) })
	if err != nil {
		return store.LeadPage{}, fmt.Errorf("postgres: list leads: %w", err)
	}
	p := store.LeadPage{Leads: leads}
	if len(leads) > q.Limit {
		p.Leads, p.HasMore = leads[:q.Limit], true
	}
	return p, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/server/store"
)

const templateColumns = "account_id, slug, name, subject, content, created_at, updated_at"

// templateSorts maps the sort fields of templates to their columns.
var templateSorts = map[string]string{
	"created_at": "created_at",
	"updated_at": "updated_at",
	"name":       "name_sort",
}

// CreateTemplate stores t under its slug; a slug the account has ever used,
// even by a deleted template, is store.ErrDuplicate.
func (db *DB) CreateTemplate(ctx context.Context, t store.Template) (store.Template, error) {
	if t.AccountID == "" || t.Slug == "" {
		return store.Template{}, errors.New("postgres: create template: AccountID and Slug must be set")
	}
	ts := now()
	t.CreatedAt, t.UpdatedAt = ts, ts
	_, err := db.pool.Exec(ctx, `INSERT INTO templates (account_id, slug, name, name_sort, subject, content, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.AccountID, t.Slug, t.Name, store.SortKey(t.Name), t.Subject, t.Content, ts, ts)
	if err != nil {
		return store.Template{}, fmt.Errorf("postgres: create template %q: %w", t.Slug, constraint(err))
	}
	return t, nil
}

func scanTemplate(row pgx.Row) (store.Template, error) {
	var t store.Template
	if err := row.Scan(&t.AccountID, &t.Slug, &t.Name, &t.Subject, &t.Content, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return store.Template{}, err
	}
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	return t, nil
}

// GetTemplate returns the template slug of accountID.
func (db *DB) GetTemplate(ctx context.Context, accountID, slug string) (store.Template, error) {
	t, err := scanTemplate(db.pool.QueryRow(ctx, "SELECT "+templateColumns+
		" FROM templates WHERE account_id = $1 AND slug = $2 AND deleted_at IS NULL", accountID, slug))
	if err != nil {
		return store.Template{}, fmt.Errorf("postgres: get template %q: %w", slug, notFound(err))
	}
	return t, nil
}

// UpdateTemplate changes the fields p sets of the template slug of
// accountID, the row locked from the read to the write.
func (db *DB) UpdateTemplate(ctx context.Context, accountID, slug string, p store.TemplatePatch) (store.Template, error) {
	var t store.Template
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanTemplate(tx.QueryRow(ctx, "SELECT "+templateColumns+
			" FROM templates WHERE account_id = $1 AND slug = $2 AND deleted_at IS NULL FOR UPDATE", accountID, slug))
		if err != nil {
			return notFound(err)
		}
		if p.Name != nil {
			t.Name = *p.Name
		}
		if p.Subject != nil {
			t.Subject = *p.Subject
		}
		if p.Content != nil {
			t.Content = *p.Content
		}
		t.UpdatedAt = now()
		_, err = tx.Exec(ctx, `UPDATE templates SET name = $1, name_sort = $2, subject = $3, content = $4, updated_at = $5
			WHERE account_id = $6 AND slug = $7`,
			t.Name, store.SortKey(t.Name), t.Subject, t.Content, t.UpdatedAt, accountID, slug)
		return err
	})
	if err != nil {
		return store.Template{}, fmt.Errorf("postgres: update template %q: %w", slug, err)
	}
	return t, nil
}

// DeleteTemplate deletes the template slug of accountID, keeping only its
// slug so that it is never used again.
func (db *DB) DeleteTemplate(ctx context.Context, accountID, slug string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE templates SET name = '', name_sort = '', subject = '', content = '', deleted_at = $1
		WHERE account_id = $2 AND slug = $3 AND deleted_at IS NULL`, now(), accountID, slug)
	if err != nil {
		return fmt.Errorf("postgres: delete template %q: %w", slug, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete template %q: %w", slug, store.ErrNotFound)
	}
	return nil
}

// ListTemplates returns one page of the templates of accountID in q's order,
// ties broken by slug in the same direction.
func (db *DB) ListTemplates(ctx context.Context, accountID string, q store.Query) (store.TemplatePage, error) {
	col, err := sortColumn(q, templateSorts)
	if err != nil {
		return store.TemplatePage{}, err
	}
	dir, limit, offset, err := page(q)
	if err != nil {
		return store.TemplatePage{}, err
	}
	// col and dir come from fixed lists, never from the query's text.
	rows, err := db.pool.Query(ctx, "SELECT "+templateColumns+
		" FROM templates WHERE account_id = $1 AND deleted_at IS NULL"+
		" ORDER BY "+col+dir+", slug"+dir+" LIMIT $2 OFFSET $3", accountID, limit, offset)
	if err != nil {
		return store.TemplatePage{}, fmt.Errorf("postgres: list templates: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Template, error) { return scanTemplate(row) })
	if err != nil {
		return store.TemplatePage{}, fmt.Errorf("postgres: list templates: %w", err)
	}
	p := store.TemplatePage{Templates: ts}
	if len(ts) > q.Limit {
		p.Templates, p.HasMore = ts[:q.Limit], true
	}
	return p, nil
}

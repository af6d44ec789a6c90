package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
		return store.Template{}, errors.New("sqlite: create template: AccountID and Slug must be set")
	}
	ts := now()
	t.CreatedAt, t.UpdatedAt = ts, ts
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO templates (account_id, slug, name, name_sort, subject, content, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.AccountID, t.Slug, t.Name, store.SortKey(t.Name), t.Subject, t.Content, ts.UnixMilli(), ts.UnixMilli())
		return constraint(err)
	})
	if err != nil {
		return store.Template{}, fmt.Errorf("sqlite: create template %q: %w", t.Slug, err)
	}
	return t, nil
}

func scanTemplate(row interface{ Scan(...any) error }) (store.Template, error) {
	var (
		t                    store.Template
		createdAt, updatedAt int64
	)
	if err := row.Scan(&t.AccountID, &t.Slug, &t.Name, &t.Subject, &t.Content, &createdAt, &updatedAt); err != nil {
		return store.Template{}, err
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return t, nil
}

// GetTemplate returns the template slug of accountID.
func (db *DB) GetTemplate(ctx context.Context, accountID, slug string) (store.Template, error) {
	t, err := scanTemplate(db.r.QueryRowContext(ctx, "SELECT "+templateColumns+
		" FROM templates WHERE account_id = ? AND slug = ? AND deleted_at IS NULL", accountID, slug))
	if err != nil {
		return store.Template{}, fmt.Errorf("sqlite: get template %q: %w", slug, notFound(err))
	}
	return t, nil
}

// UpdateTemplate changes the fields p sets of the template slug of accountID.
func (db *DB) UpdateTemplate(ctx context.Context, accountID, slug string, p store.TemplatePatch) (store.Template, error) {
	var t store.Template
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTemplate(tx.QueryRowContext(ctx, "SELECT "+templateColumns+
			" FROM templates WHERE account_id = ? AND slug = ? AND deleted_at IS NULL", accountID, slug))
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
		_, err = tx.ExecContext(ctx, `UPDATE templates SET name = ?, name_sort = ?, subject = ?, content = ?, updated_at = ?
			WHERE account_id = ? AND slug = ?`,
			t.Name, store.SortKey(t.Name), t.Subject, t.Content, t.UpdatedAt.UnixMilli(), accountID, slug)
		return err
	})
	if err != nil {
		return store.Template{}, fmt.Errorf("sqlite: update template %q: %w", slug, err)
	}
	return t, nil
}

// DeleteTemplate deletes the template slug of accountID, keeping only its
// slug so that it is never used again.
func (db *DB) DeleteTemplate(ctx context.Context, accountID, slug string) error {
	t := now().UnixMilli()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return affected(tx.ExecContext(ctx, `UPDATE templates SET name = '', name_sort = '', subject = '', content = '', deleted_at = ?
			WHERE account_id = ? AND slug = ? AND deleted_at IS NULL`, t, accountID, slug))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete template %q: %w", slug, err)
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
	rows, err := db.r.QueryContext(ctx, "SELECT "+templateColumns+
		" FROM templates WHERE account_id = ? AND deleted_at IS NULL"+
		" ORDER BY "+col+dir+", slug"+dir+" LIMIT ? OFFSET ?", accountID, limit, offset)
	if err != nil {
		return store.TemplatePage{}, fmt.Errorf("sqlite: list templates: %w", err)
	}
	defer rows.Close()
	ts := make([]store.Template, 0, min(limit, 101))
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return store.TemplatePage{}, fmt.Errorf("sqlite: list templates: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return store.TemplatePage{}, fmt.Errorf("sqlite: list templates: %w", err)
	}
	p := store.TemplatePage{Templates: ts}
	if len(ts) > q.Limit {
		p.Templates, p.HasMore = ts[:q.Limit], true
	}
	return p, nil
}

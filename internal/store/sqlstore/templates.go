package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/axiomkit/axiom"
)

const (
	templateColumns   = "account_id, slug, name, subject, content, created_at, updated_at"
	getTemplateSQL    = "SELECT " + templateColumns + " FROM templates WHERE account_id = $1 AND slug = $2 AND deleted_at IS NULL"
	insertTemplateSQL = `INSERT INTO templates (account_id, slug, name, name_sort, subject, content, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

func (s *Store) templateArgs(t axiom.Template) []any {
	return []any{t.AccountID, t.Slug, t.Name, axiom.SortKey(t.Name), t.Subject, t.Content, s.arg(t.CreatedAt), s.arg(t.UpdatedAt)}
}

func scanTemplate(row Scanner) (axiom.Template, error) {
	var v struct {
		t                axiom.Template
		created, updated Time
	}
	t := &v.t
	if err := row.Scan(&t.AccountID, &t.Slug, &t.Name, &t.Subject, &t.Content, &v.created, &v.updated); err != nil {
		return axiom.Template{}, err
	}
	t.CreatedAt, t.UpdatedAt = v.created.Time, v.updated.Time
	return *t, nil
}

// CreateTemplate stores t under its slug; a slug the account has ever used,
// even by a deleted template, is a duplicate.
func (s *Store) CreateTemplate(ctx context.Context, t axiom.Template) error {
	if t.AccountID == "" || t.Slug == "" {
		return s.errorf(errors.New("AccountID and Slug must be set"), "create template")
	}
	err := s.write(ctx, false, func(c Conn) error {
		_, err := c.ExecContext(ctx, insertTemplateSQL, s.templateArgs(t)...)
		return err
	})
	switch s.violation(err) {
	case Unique:
		err = axiom.Errorf(axiom.CodeDuplicateEntry, "The slug '%s' is taken", t.Slug)
	case ForeignKey:
		err = accountNotFound(t.AccountID)
	}
	return s.errorf(err, "create template %q", t.Slug)
}

// GetTemplate returns the live template slug of accountID.
func (s *Store) GetTemplate(ctx context.Context, accountID, slug string) (axiom.Template, error) {
	t, err := scanTemplate(s.read().QueryRowContext(ctx, getTemplateSQL, accountID, slug))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.TemplateNotFound(slug)
	}
	if err != nil {
		return axiom.Template{}, s.errorf(err, "get template %q", slug)
	}
	return t, nil
}

// UpdateTemplate applies p to the template slug of accountID at now, the
// row locked from the read to the write.
func (s *Store) UpdateTemplate(ctx context.Context, accountID, slug string, p axiom.TemplatePatch, now time.Time) (axiom.Template, error) {
	var t axiom.Template
	err := s.write(ctx, true, func(c Conn) error {
		var err error
		t, err = scanTemplate(c.QueryRowContext(ctx, s.sql.lockTemplate, accountID, slug))
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.TemplateNotFound(slug)
		}
		if err != nil {
			return err
		}
		t = p.Apply(t, now)
		_, err = c.ExecContext(ctx, `UPDATE templates SET name = $1, name_sort = $2, subject = $3, content = $4, updated_at = $5
			WHERE account_id = $6 AND slug = $7`,
			t.Name, axiom.SortKey(t.Name), t.Subject, t.Content, s.arg(t.UpdatedAt), accountID, slug)
		return err
	})
	if err != nil {
		return axiom.Template{}, s.errorf(err, "update template %q", slug)
	}
	return t, nil
}

// DeleteTemplate deletes the template slug of accountID, keeping only its
// slug so that it is never used again.
func (s *Store) DeleteTemplate(ctx context.Context, accountID, slug string, now time.Time) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, `UPDATE templates SET name = '', name_sort = '', subject = '', content = '', deleted_at = $1
			WHERE account_id = $2 AND slug = $3 AND deleted_at IS NULL`, s.arg(now), accountID, slug))
		if err == nil && n == 0 {
			err = axiom.TemplateNotFound(slug)
		}
		return err
	})
	return s.errorf(err, "delete template %q", slug)
}

// ListTemplates returns one page of the live templates of accountID in q's
// order, ties broken by slug in the same direction.
func (s *Store) ListTemplates(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Template], error) {
	o, err := order(q, templateSorts)
	if err != nil {
		return axiom.Page[axiom.Template]{}, s.errorf(err, "list templates")
	}
	p, err := listPage(ctx, s, q, scanTemplate, "SELECT "+templateColumns+" FROM templates WHERE account_id = $1 AND deleted_at IS NULL"+
		o.By("slug")+" LIMIT $2 OFFSET $3", accountID)
	return p, s.errorf(err, "list templates")
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/axiomkit/axiom"
)

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Time reads a stored time, whatever the database keeps: SQLite's integer
// Unix milliseconds or PostgreSQL's timestamptz, as UTC. NULL leaves Valid
// false.
type Time struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t = Time{}
	case int64:
		*t = Time{Time: time.UnixMilli(v).UTC(), Valid: true}
	case time.Time:
		*t = Time{Time: v.UTC(), Valid: true}
	default:
		return fmt.Errorf("cannot read a time from %T", v)
	}
	return nil
}

// Ptr is the time, or nil when it is NULL.
func (t Time) Ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// collect scans every row of a query with scan; size is the number of rows
// expected, to size the slice once.
func collect[T any](rows *sql.Rows, err error, size int, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]T, 0, size)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// listPage reads one page of q: query takes args, then the LIMIT (one
// more than the page holds, to learn whether another follows) and OFFSET.
func listPage[T any](ctx context.Context, s *Store, q axiom.Query, scan func(Scanner) (T, error), query string, args ...any) (axiom.Page[T], error) {
	rows, err := s.read().QueryContext(ctx, query, append(args, q.Limit+1, q.Offset())...)
	items, err := collect(rows, err, min(q.Limit+1, 101), scan)
	if err != nil {
		return axiom.Page[T]{}, err
	}
	return PageOf(items, q.Limit), nil
}

// PageOf is the page of limit items that items, queried with one more
// than the page holds, begins.
func PageOf[T any](items []T, limit int) axiom.Page[T] {
	if len(items) > limit {
		return axiom.Page[T]{Items: items[:limit], HasMore: true}
	}
	return axiom.Page[T]{Items: items}
}

// Order is the order of a list: a column from a fixed list, never from
// the query's text, and its direction.
type Order struct {
	Column string
	Desc   bool
}

// Dir is the SQL of the direction.
func (o Order) Dir() string {
	if o.Desc {
		return " DESC"
	}
	return " ASC"
}

// By is the ORDER BY clause of o, ties broken by the column tie in the
// same direction.
func (o Order) By(tie string) string {
	return " ORDER BY " + o.Column + o.Dir() + ", " + tie + o.Dir()
}

// orders lists every order of sorts.
func orders(sorts map[string]string) []Order {
	var out []Order
	for _, col := range sorts {
		out = append(out, Order{Column: col}, Order{Column: col, Desc: true})
	}
	return out
}

// The sort fields of each list and their columns.
var (
	leadSorts = map[string]string{
		"created_at": "created_at",
		"updated_at": "updated_at",
		"name":       "name_sort",
		"email":      "email_sort",
	}
	templateSorts = map[string]string{
		"created_at": "created_at",
		"updated_at": "updated_at",
		"name":       "name_sort",
	}
	campaignSorts    = templateSorts
	suppressionSorts = map[string]string{
		"created_at": "created_at",
		"email":      "email_sort",
	}
	propertySorts = map[string]string{
		"created_at": "created_at",
		"updated_at": "updated_at",
		"price":      "price_value",
	}
)

// order checks q and returns the order it asks of sorts; no sort field
// sorts by created_at, the API's default.
func order(q axiom.Query, sorts map[string]string) (Order, error) {
	if err := checkPage(q); err != nil {
		return Order{}, err
	}
	field := q.Sort
	if field == "" {
		field = "created_at"
	}
	col, ok := sorts[field]
	if !ok {
		return Order{}, axiom.Errorf(axiom.CodeInvalidParameter, "Cannot sort by '%s'", q.Sort)
	}
	return Order{Column: col, Desc: q.Desc}, nil
}

// checkPage refuses a page or limit below 1.
func checkPage(q axiom.Query) error {
	if q.Page < 1 || q.Limit < 1 {
		return axiom.Errorf(axiom.CodeInvalidParameter, "Page %d, limit %d: both must be at least 1", q.Page, q.Limit)
	}
	return nil
}

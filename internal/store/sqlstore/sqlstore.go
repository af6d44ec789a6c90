// Package sqlstore is the store both SQL backends share: every statement
// that is the same in SQLite and PostgreSQL, written once with $1, $2
// placeholders, the scanning of rows into the domain's types, paging, the
// migration procedure, and the mapping of the database's errors to the
// domain's. A Dialect carries what really differs between the two; the
// sqlite and postgres packages each describe theirs and embed a Store.
//
// Only database/sql and the domain are imported here: the drivers, and all
// that knows them, stay in the backends.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
)

// Violation is the kind of constraint a failed statement broke.
type Violation int

// The constraints the store tells apart.
const (
	NoViolation Violation = iota
	Unique                // a unique key or primary key is taken
	ForeignKey            // a row names one that does not exist (an account)
)

// Querier is where a statement runs: a pool or a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect is what differs between the databases the store runs on. Every
// function but Rebind must be set.
type Dialect struct {
	// Name names the backend in errors: "sqlite: get lead …".
	Name string
	// Rebind rewrites the $N placeholders of a statement into the
	// database's own; nil keeps them. The store rewrites each statement
	// once and keeps the result.
	Rebind func(query string) string
	// Time is t, a store time (UTC, whole milliseconds), as the database
	// takes it as an argument. Times are read back by Time.Scan, which
	// takes every form.
	Time func(t time.Time) any
	// Violation tells which constraint, if any, err reports broken.
	Violation func(err error) Violation
	// ForUpdate, after a SELECT, locks the rows it reads until the
	// transaction ends; SkipLocked, after it, passes over the rows others
	// hold. Both are "" where writes are serialized anyway.
	ForUpdate, SkipLocked string
	// JSONArray is the SQL of the text of the JSON array of the SQL values
	// vals (comma-separated); JSONText that of the text of a JSON column;
	// Micros that of a stored time as integer Unix microseconds.
	JSONArray, JSONText, Micros func(sql string) string
	// LeadKey is the column that reaches a lead's row most cheaply, which
	// a page's rows are fetched by once the sort index has found them.
	LeadKey string
	// SearchColumn holds a lead's searchable words; SearchValue is the SQL
	// that stores there the words of the text in placeholder p, and
	// SearchText that text: the words, space-separated.
	SearchColumn string
	SearchValue  func(p string) string
	SearchText   func(l axiom.Lead) string
	// Write runs fn's statements as one write and returns once they are
	// durable or undone. When atomic is set, or the database gains nothing
	// by doing otherwise, fn runs in a transaction that is committed if it
	// returns nil (q is a *sql.Tx); otherwise fn may run on the write pool,
	// each statement committing on its own (q is the *sql.DB).
	Write func(ctx context.Context, atomic bool, fn func(q Querier) error) error
	// EmptyBegin and EmptyEnd, when set, run in Reset's transaction
	// before and after it empties every table: what makes a mass
	// deletion cheap, and its undoing.
	EmptyBegin, EmptyEnd string
	// BytesContain is the SQL condition that the bytes of column hold the
	// UTF-8 text of placeholder p (the idempotency records a lead's
	// erasure deletes).
	BytesContain func(column, p string) string
	// Search returns one page of the account's leads that match every
	// word, in order o, for ListLeads; q is checked and o one of the lead
	// sorts.
	Search func(ctx context.Context, accountID string, q axiom.Query, o Order, words []string) (axiom.Page[axiom.Lead], error)
}

// Store implements every operation of the store on a Dialect.
type Store struct {
	d    Dialect
	r, w *sql.DB // the pools reads and writes run on; one pool may be both

	// stmts holds, by the text written with $N, each statement's text in
	// the dialect and its prepared forms; in use only when the dialect
	// rebinds or statements were prepared.
	stmts  sync.Map
	cached bool

	sql statements // the SQL built from the dialect, once
}

// New returns the store of dialect d on the pools r (reads) and w (writes).
func New(d Dialect, r, w *sql.DB) *Store {
	s := &Store{d: d, r: r, w: w, cached: d.Rebind != nil}
	s.sql = buildStatements(d)
	return s
}

// Ping checks that the pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("%s: ping reader: %w", s.d.Name, err)
		}
	}
	return nil
}

// errorf wraps err with the backend's name and the operation that failed.
func (s *Store) errorf(err error, op string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", s.d.Name, fmt.Sprintf(op, args...), err)
}

// violation is the constraint err broke; a nil err broke none.
func (s *Store) violation(err error) Violation {
	if err == nil {
		return NoViolation
	}
	return s.d.Violation(err)
}

// arg is the argument of a store time.
func (s *Store) arg(t time.Time) any { return s.d.Time(axiom.StoreTime(t)) }

// nullArg is the argument of a time that may be unset.
func (s *Store) nullArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.arg(*t)
}

// statement is one statement as it runs: in the dialect's placeholders,
// and prepared on each pool when it is a hot one.
type statement struct {
	text string
	r, w *sql.Stmt
}

// statement returns the text of query in the dialect and, if it was
// prepared, its statement on the read or write pool.
func (s *Store) statement(query string, write bool) (string, *sql.Stmt) {
	if !s.cached {
		return query, nil
	}
	v, ok := s.stmts.Load(query)
	if !ok {
		v, _ = s.stmts.LoadOrStore(query, &statement{text: s.rebind(query)})
	}
	st := v.(*statement)
	if write {
		return st.text, st.w
	}
	return st.text, st.r
}

func (s *Store) rebind(query string) string {
	if s.d.Rebind == nil {
		return query
	}
	return s.d.Rebind(query)
}

// Prepare prepares, once, the statements run most often: the store's own
// and those given, reads on the read pool and writes on the write pool,
// for a database that would otherwise parse each anew every time (SQLite).
// It must run before the store is in use, after the migrations.
func Prepare(ctx context.Context, s *Store, reads, writes []string) error {
	s.cached = true
	for _, list := range []struct {
		pool    *sql.DB
		queries []string
		write   bool
	}{
		{s.r, append(s.sql.hotReads(), reads...), false},
		{s.w, append(s.sql.hotWrites(), writes...), true},
	} {
		for _, q := range list.queries {
			v, _ := s.stmts.LoadOrStore(q, &statement{text: s.rebind(q)})
			st := v.(*statement)
			p, err := list.pool.PrepareContext(ctx, st.text)
			if err != nil {
				return fmt.Errorf("%s: prepare %q: %w", s.d.Name, st.text, err)
			}
			if list.write {
				st.w = p
			} else {
				st.r = p
			}
		}
	}
	return nil
}

// CloseStatements closes what Prepare prepared.
func CloseStatements(s *Store) error {
	var errs []error
	s.stmts.Range(func(_, v any) bool {
		for _, p := range []*sql.Stmt{v.(*statement).r, v.(*statement).w} {
			if p != nil {
				errs = append(errs, p.Close())
			}
		}
		return true
	})
	return errors.Join(errs...)
}

// Conn runs statements written with $N placeholders on a pool or in a
// transaction, rewritten for the dialect and through their prepared
// forms where there are some. It is itself a Querier.
type Conn struct {
	s     *Store
	q     Querier
	write bool // q is the write pool or one of its transactions
}

// WriteConn is the Conn of q, the write pool of s or one of its
// transactions.
func WriteConn(s *Store, q Querier) Conn { return Conn{s: s, q: q, write: true} }

func (s *Store) read() Conn { return Conn{s: s, q: s.r} }

// LeadRow is the SQL that reads a lead as the one value ScanLead reads.
func (s *Store) LeadRow() string { return s.sql.leadRow }

// write runs fn as the dialect writes: see Dialect.Write.
func (s *Store) write(ctx context.Context, atomic bool, fn func(c Conn) error) error {
	return s.d.Write(ctx, atomic, func(q Querier) error { return fn(WriteConn(s, q)) })
}

// prepared returns the statement st as it runs on c.
func (c Conn) prepared(ctx context.Context, st *sql.Stmt) *sql.Stmt {
	if tx, ok := c.q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st)
	}
	return st
}

// ExecContext runs query, which returns no rows.
func (c Conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	text, st := c.s.statement(query, c.write)
	if st != nil {
		return c.prepared(ctx, st).ExecContext(ctx, args...)
	}
	return c.q.ExecContext(ctx, text, args...)
}

// QueryContext runs query and returns its rows.
func (c Conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	text, st := c.s.statement(query, c.write)
	if st != nil {
		return c.prepared(ctx, st).QueryContext(ctx, args...)
	}
	return c.q.QueryContext(ctx, text, args...)
}

// QueryRowContext runs query, which returns at most one row.
func (c Conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	text, st := c.s.statement(query, c.write)
	if st != nil {
		return c.prepared(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.q.QueryRowContext(ctx, text, args...)
}

// RunTx runs fn in a transaction of db and commits it if fn succeeds.
func RunTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// affected is the number of rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// accountNotFound is the error of a record naming an account that does
// not exist.
func accountNotFound(id string) *axiom.Error {
	return axiom.Errorf(axiom.CodeNotFound, "No account with id '%s'", id)
}

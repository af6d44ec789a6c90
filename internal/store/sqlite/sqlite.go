// Package sqlite is the SQLite backend of the store, on the pure-Go driver
// modernc.org/sqlite. The statements it shares with PostgreSQL are in
// package sqlstore; here are SQLite's own ways: the writer, the search.
//
// All writes go through one connection, in transactions started with BEGIN
// IMMEDIATE, so writers never fail on each other's locks; reads go through a
// pool of read-only connections that WAL lets run beside the writer.
package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// Memory is the path that opens a new, empty in-memory database, which lives
// until the DB is closed.
const Memory = ":memory:"

// Options tune Open; the zero value is ready to use.
type Options struct {
	// Readers is the most read connections open at once; 0 means 4.
	Readers int
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing; 0 means 5 seconds.
	BusyTimeout time.Duration
	// Logger receives the migrations applied at Open; nil means none.
	Logger *slog.Logger

	// maxBatch bounds the writes committed together; 0 means
	// defaultMaxBatch, 1 commits each write alone.
	maxBatch int
	// plan forces the plan of every search (search.go), and proof the most
	// index entries the walk's proof reads, for tests.
	plan  searchPlan
	proof int
}

// DB is the store on one SQLite database.
type DB struct {
	*sqlstore.Store

	w      *sql.DB // the only writer: one connection
	r      *sql.DB // read-only connections
	log    *slog.Logger
	memory bool

	// The writer goroutine (writer.go) and what feeds it.
	ops      chan *writeOp
	maxBatch int
	wmu      sync.RWMutex // write lock: closing ops
	wclosed  bool
	wstopped chan struct{}
	commits  atomic.Int64 // transactions the writer committed

	plan  searchPlan
	proof int

	closeOnce sync.Once
	closeErr  error
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating it if need be) the database at path, or a new
// in-memory one if path is Memory, and brings its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.maxBatch <= 0 {
		opts.maxBatch = defaultMaxBatch
	}

	var base string
	memory := path == Memory
	if memory {
		// memdb databases are shared by name between the connections of this
		// process and use ordinary locking (unlike shared-cache ones, whose
		// table locks ignore busy_timeout); the name is random so that every
		// Open gets its own.
		base = "file:/axiom-" + rand.Text() + "?vfs=memdb&"
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		if err := createPrivate(abs, opts.Logger); err != nil {
			return nil, err
		}
		base = "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?"
	}
	// synchronous=FULL: in WAL mode it syncs the log at every commit, so a
	// write is durable once acknowledged; NORMAL could lose the last commits
	// on power loss, and a 201 must not be sent for a write that can vanish.
	common := "_pragma=busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"

	// secure_delete=FAST: the writer zeroes what a delete frees within a
	// page, so that an erased lead's bytes do not linger in the file.
	w, err := sql.Open("sqlite", base+common+"&_pragma=secure_delete(FAST)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	// The writer is never closed while the DB is open: it also keeps an
	// in-memory database alive.
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Opening connects to nothing: the readers first connect once the
	// schema is up to date.
	r, err := sql.Open("sqlite", base+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)

	db := &DB{w: w, r: r, log: opts.Logger, memory: memory, maxBatch: opts.maxBatch, plan: opts.plan, proof: opts.proof}
	db.Store = sqlstore.New(db.dialect(), r, w)
	if err := db.setup(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	db.startWriter()
	if err := r.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	if err := sqlstore.Prepare(ctx, db.Store, nil, writerStatements); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// createPrivate creates the database file readable by its owner only: it
// holds every account's data and tokens, and SQLite gives its -wal and -shm
// files the mode of the database. An existing file keeps its mode: it is
// the operator's, and a warning says when others can read it.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the database file can be read by other users: chmod 600 it (and its -wal and -shm files)",
			slog.String("path", path), slog.String("mode", fi.Mode().Perm().String()))
	}
	return nil
}

// dialect is how SQLite differs: ?N placeholders, times as integer Unix
// milliseconds, the single writer in place of row locks, the rowid seq,
// and the FTS5 search.
func (db *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:         "sqlite",
		Rebind:       numbered,
		Time:         func(t time.Time) any { return t.UnixMilli() },
		Violation:    violation,
		JSONArray:    func(vals string) string { return "json_array(" + vals + ")" },
		JSONText:     func(col string) string { return col },
		Micros:       func(col string) string { return col + " * 1000" },
		LeadKey:      "seq",
		SearchColumn: "search_text",
		SearchValue:  func(p string) string { return p },
		SearchText:   axiom.Lead.SearchText,
		BytesContain: func(col, p string) string { return "instr(" + col + ", " + p + ") > 0" },
		// A reset deletes every lead at once: FTS5's secure-delete, which
		// rewrites the index for each, is off for that transaction only.
		EmptyBegin: "INSERT INTO leads_fts (leads_fts, rank) VALUES ('secure-delete', 0)",
		EmptyEnd:   "INSERT INTO leads_fts (leads_fts, rank) VALUES ('secure-delete', 1)",
		// Every write is a transaction of the writer, whose group commit
		// makes that cheap.
		Write: func(ctx context.Context, _ bool, fn func(q sqlstore.Querier) error) error {
			return db.write(ctx, func(tx *sql.Tx) error { return fn(tx) })
		},
		Search: db.searchLeads,
	}
}

// setup switches a file database to WAL and applies the migrations.
func (db *DB) setup(ctx context.Context) error {
	if !db.memory {
		var mode string
		if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
			return fmt.Errorf("sqlite: set WAL: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("sqlite: journal mode is %q, not wal", mode)
		}
	}
	return db.migrate(ctx)
}

// migrate applies the migrations the database lacks, each in its own
// transaction: BEGIN IMMEDIATE takes the write lock, so that two processes
// opening one file never both apply a migration.
func (db *DB) migrate(ctx context.Context) error {
	return sqlstore.Migrate(ctx, db.Store, sqlstore.Migrations{
		FS: migrations, Dir: "migrations", Log: db.log,
		TimeType: "INTEGER", TableOptions: " STRICT",
	})
}

// Close closes every connection; an in-memory database is gone after it.
// Calling it again returns the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		db.stopWriter()
		errs = append(errs, sqlstore.CloseStatements(db.Store))
		if db.r != nil {
			errs = append(errs, db.r.Close())
		}
		// optimize keeps the planner's statistics fresh at little cost.
		if _, err := db.w.Exec("PRAGMA optimize"); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, db.w.Close())
		if err := errors.Join(errs...); err != nil {
			db.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return db.closeErr
}

// violation tells which constraint err reports broken.
func violation(err error) sqlstore.Violation {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqlstore.Unique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return sqlstore.ForeignKey
		}
	}
	return sqlstore.NoViolation
}

// numbered rewrites the $N placeholders of a shared statement, outside
// quoted text, into SQLite's: plain ? when they come in order, each once,
// which the driver binds without looking up their names, and ?N, which
// bind the same arguments, when they do not.
func numbered(query string) string {
	b := []byte(query)
	var at []int // the index of each placeholder's $
	inOrder, quoted := true, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\'':
			quoted = !quoted
		case c == '$' && !quoted && i+1 < len(b) && '0' <= b[i+1] && b[i+1] <= '9':
			b[i] = '?'
			j := i + 1
			for j < len(b) && '0' <= b[j] && b[j] <= '9' {
				j++
			}
			inOrder = inOrder && string(b[i+1:j]) == strconv.Itoa(len(at)+1)
			at = append(at, i)
			i = j - 1
		}
	}
	if !inOrder {
		return string(b)
	}
	// Drop the numbers: every ? is followed by its own.
	out := make([]byte, 0, len(b))
	last := 0
	for _, i := range at {
		out = append(out, b[last:i+1]...)
		last = i + 1
		for last < len(b) && '0' <= b[last] && b[last] <= '9' {
			last++
		}
	}
	return string(append(out, b[last:]...))
}

// axiom_sha256(text) is axiom.SuppressionKey's hash of a comparison form,
// for the migration that keys the suppression list by it.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("axiom_sha256", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("axiom_sha256: %T is not text", args[0])
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:]), nil
	})
}

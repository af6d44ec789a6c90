// Package sqlite is the SQLite backend of store.Store, on the pure-Go driver
// modernc.org/sqlite.
//
// All writes go through one connection, in transactions started with BEGIN
// IMMEDIATE, so writers never fail on each other's locks; reads go through a
// pool of read-only connections that WAL lets run beside the writer.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/axiomkit/axiom/server/store"
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
	// IdempotencyTTL is how long a saved idempotent response keeps its key:
	// older ones are pruned when another is saved, and their key may be used
	// again. 0 means 24 hours, the API's promise.
	IdempotencyTTL time.Duration
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

// DB is a store.Store on one SQLite database.
type DB struct {
	w      *sql.DB // the only writer: one connection
	r      *sql.DB // read-only connections
	ttl    time.Duration
	log    *slog.Logger
	memory bool

	// The writer goroutine (writer.go) and what feeds it.
	ops      chan *writeOp
	maxBatch int
	wmu      sync.RWMutex // write lock: closing ops
	wclosed  bool
	wstopped chan struct{}
	commits  atomic.Int64 // transactions the writer committed

	stmts map[string]*sql.Stmt // prepared at Open (stmt.go); read-only after

	plan  searchPlan
	proof int

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

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
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = 24 * time.Hour
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
		base = "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?"
	}
	// synchronous=FULL: in WAL mode it syncs the log at every commit, so a
	// write is durable once acknowledged; NORMAL could lose the last commits
	// on power loss, and a 201 must not be sent for a write that can vanish.
	common := "_pragma=busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"

	w, err := sql.Open("sqlite", base+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	// The writer is never closed while the DB is open: it also keeps an
	// in-memory database alive.
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{w: w, ttl: opts.IdempotencyTTL, log: opts.Logger, memory: memory, maxBatch: opts.maxBatch, plan: opts.plan, proof: opts.proof}
	if err := db.setup(ctx); err != nil {
		w.Close()
		return nil, err
	}
	db.startWriter()

	r, err := sql.Open("sqlite", base+common+"&_pragma=query_only(1)")
	if err != nil {
		db.stopWriter()
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	db.r = r
	if err := r.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
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

// migrate applies, each in its own transaction, the migrations the database
// lacks, and refuses a database migrated by a newer version of the server.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	var latest int
	if err := db.w.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&latest); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if n := len(ms); n > 0 && latest > ms[n-1].Version {
		return fmt.Errorf("sqlite: database schema version %d is newer than this server's %d", latest, ms[n-1].Version)
	}
	for _, m := range ms {
		err := inTx(ctx, db.w, func(tx *sql.Tx) error {
			// Checked inside the write transaction, so that two processes
			// opening one file never both apply a migration.
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMilli()); err != nil {
				return err
			}
			db.log.InfoContext(ctx, "applied migration", "version", m.Version, "name", m.Name)
			return nil
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// Ping checks that both the writer and a reader answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Close closes every connection; an in-memory database is gone after it.
// Calling it again returns the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		db.stopWriter()
		errs = append(errs, db.closeStatements())
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

// inTx runs fn in a transaction of w and commits it if fn succeeds. Only
// Open uses it, before the writer goroutine starts; every other write goes
// through DB.write.
func inTx(ctx context.Context, w *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := w.BeginTx(ctx, nil)
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

// constraint maps the violation of a unique key to store.ErrDuplicate and
// that of a foreign key (an unknown account) to store.ErrNotFound.
func constraint(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrDuplicate, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: no such account: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// affected turns a statement's result into store.ErrNotFound when it changed
// no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// now is the time the store stamps records with: UTC, in whole milliseconds,
// the precision every backend keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// fromMillis turns a stored time back into a time.Time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// page checks q and returns its sort direction and the LIMIT (one more than
// the page holds, to learn whether another follows) and OFFSET to query.
func page(q store.Query) (dir string, limit, offset int, err error) {
	if q.Page < 1 || q.Limit < 1 {
		return "", 0, 0, fmt.Errorf("sqlite: page %d, limit %d: both must be at least 1", q.Page, q.Limit)
	}
	dir = " ASC"
	if q.Desc {
		dir = " DESC"
	}
	return dir, q.Limit + 1, q.Offset(), nil
}

// sortColumn returns the column of columns that q sorts by; "" sorts by
// created_at, the API's default.
func sortColumn(q store.Query, columns map[string]string) (string, error) {
	s := q.Sort
	if s == "" {
		s = "created_at"
	}
	col, ok := columns[s]
	if !ok {
		return "", fmt.Errorf("sqlite: cannot sort by %q", q.Sort)
	}
	return col, nil
}

// Package postgres is the PostgreSQL backend of store.Store, on
// github.com/jackc/pgx/v5, for several servers sharing one database.
//
// It behaves as the SQLite backend does, checked by the same storetest
// suite: the columns that sort, compare emails or hold the searchable words
// are computed in Go by the functions of package store, text that orders is
// COLLATE "C" (byte order, as SQLite's BINARY), and times are kept to the
// millisecond. The schema is embedded and brought up to date by Open, under
// an advisory lock, so that servers started at once never race on it.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axiomkit/axiom/server/store"
)

// Options tune Open; the zero value is ready to use.
type Options struct {
	// IdempotencyTTL is how long a saved idempotent response keeps its key:
	// older ones are pruned when another is saved, and their key may be used
	// again. 0 means 24 hours, the API's promise.
	IdempotencyTTL time.Duration
	// Logger receives the migrations applied at Open; nil means none.
	Logger *slog.Logger
}

// DB is a store.Store on one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	ttl  time.Duration
	log  *slog.Logger
}

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock held while migrating: any
// fixed number, the same in every server.
const migrationLock int64 = 0x61786f6d_6d696772 // "axommigr"

// Open connects to the database a postgres:// or postgresql:// URL names and
// brings its schema up to date. The URL takes libpq's parameters and pgx's
// (pool_max_conns, search_path to use another schema than public, …).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx masks the password in the URL it quotes.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, ttl: opts.IdempotencyTTL, log: opts.Logger}
	if err := db.setup(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// setup checks that the database stores text as UTF-8 and migrates it.
func (db *DB) setup(ctx context.Context) error {
	var enc string
	if err := db.pool.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	// Other encodings would refuse or mangle some of the text the API accepts.
	if enc != "UTF8" {
		return fmt.Errorf("postgres: the database's encoding is %s; create it WITH ENCODING 'UTF8'", enc)
	}
	return db.migrate(ctx)
}

// migrate applies the migrations the database lacks, all in one transaction
// holding an advisory lock: servers starting together wait for the first,
// then find nothing left to do. A database migrated by a newer server is
// refused.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if n := len(ms); n > 0 && len(applied) > 0 && applied[len(applied)-1] > ms[n-1].Version {
			return fmt.Errorf("database schema version %d is newer than this server's %d", applied[len(applied)-1], ms[n-1].Version)
		}
		for _, m := range ms {
			if contains(applied, m.Version) {
				continue
			}
			// No arguments: pgx sends it with the simple protocol, which
			// runs the file's several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.Version, m.Name, now()); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			db.log.InfoContext(ctx, "applied migration", "version", m.Version, "name", m.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

func contains(sorted []int, v int) bool {
	i := sort.SearchInts(sorted, v)
	return i < len(sorted) && sorted[i] == v
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection, waiting for those in use to be released;
// calling it again does nothing.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// constraint maps the violation of a unique key to store.ErrDuplicate and
// that of a foreign key (an unknown account) to store.ErrNotFound.
func constraint(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrDuplicate, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: no such account: %w", store.ErrNotFound, err)
		}
	}
	return err
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// now is the time the store stamps records with: UTC, in whole milliseconds,
// the precision every backend keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// utc turns a time read back from the database into the store's form.
func utc(t time.Time) time.Time { return t.UTC() }

// page checks q and returns its sort direction and the LIMIT (one more than
// the page holds, to learn whether another follows) and OFFSET to query.
func page(q store.Query) (dir string, limit, offset int, err error) {
	if q.Page < 1 || q.Limit < 1 {
		return "", 0, 0, fmt.Errorf("postgres: page %d, limit %d: both must be at least 1", q.Page, q.Limit)
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
		return "", fmt.Errorf("postgres: cannot sort by %q", q.Sort)
	}
	return col, nil
}

// Package postgres is the PostgreSQL backend of the store, on pgx through
// database/sql, for several servers sharing one database. The statements
// it shares with SQLite are in package sqlstore; here are PostgreSQL's own
// ways: the pool, row locks, the text search.
//
// It behaves as the SQLite backend does, checked by the same storetest
// suite: the columns that sort, compare emails or hold the searchable words
// are computed in Go by the domain's functions, text that orders is
// COLLATE "C" (byte order, as SQLite's BINARY), and times are kept to the
// millisecond. The schema is embedded and brought up to date by Open, under
// an advisory lock, so that servers started at once never race on it.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// Options tune Open; the zero value is ready to use.
type Options struct {
	// Logger receives the migrations applied at Open; nil means none.
	Logger *slog.Logger
}

// DB is the store on one PostgreSQL database.
type DB struct {
	*sqlstore.Store

	pool *pgxpool.Pool
	sql  *sql.DB // on pool: database/sql takes each connection from it
	log  *slog.Logger

	closeOnce sync.Once
}

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock held while migrating: any
// fixed number, the same in every server.
const migrationLock int64 = 0x61786f6d_6d696772 // "axommigr"

// Open connects to the database a postgres:// or postgresql:// URL names and
// brings its schema up to date. The URL takes libpq's parameters and pgx's
// (pool_max_conns, search_path to use another schema than public, …).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
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
	db := &DB{pool: pool, sql: stdlib.OpenDBFromPool(pool), log: opts.Logger}
	db.Store = sqlstore.New(db.dialect(), db.sql, db.sql)
	if err := db.setup(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dialect is how PostgreSQL differs: timestamptz, row locks that servers
// sharing the database take, a statement alone where no transaction is
// needed, and the tsvector search. pgx keeps each statement prepared on
// each connection by itself.
func (db *DB) dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:         "postgres",
		Time:         func(t time.Time) any { return t },
		Violation:    violation,
		ForUpdate:    " FOR UPDATE",
		SkipLocked:   " SKIP LOCKED",
		JSONArray:    func(vals string) string { return "json_build_array(" + vals + ")::text" },
		JSONText:     func(col string) string { return col + "::text" },
		Micros:       func(col string) string { return "(extract(epoch FROM " + col + ") * 1000000)::bigint" },
		LeadKey:      "id",
		SearchColumn: "search",
		SearchValue:  func(p string) string { return "array_to_tsvector(string_to_array(" + p + ", ' '))" },
		SearchText:   SearchText,
		BytesContain: func(col, p string) string { return "position(convert_to(" + p + ", 'UTF8') in " + col + ") > 0" },
		Write:        db.write,
		Search:       db.search,
	}
}

// write runs fn in a transaction when it must be atomic, and otherwise on
// the pool, where each statement commits on its own without the round
// trips of BEGIN and COMMIT.
func (db *DB) write(ctx context.Context, atomic bool, fn func(q sqlstore.Querier) error) error {
	if !atomic {
		return fn(db.sql)
	}
	return sqlstore.RunTx(ctx, db.sql, func(tx *sql.Tx) error { return fn(tx) })
}

// setup checks that the database stores text as UTF-8 and migrates it.
func (db *DB) setup(ctx context.Context) error {
	var enc string
	if err := db.sql.QueryRowContext(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	// Other encodings would refuse or mangle some of the text the API accepts.
	if enc != "UTF8" {
		return fmt.Errorf("postgres: the database's encoding is %s; create it WITH ENCODING 'UTF8'", enc)
	}
	return sqlstore.Migrate(ctx, db.Store, sqlstore.Migrations{
		FS: migrations, Dir: "migrations", Log: db.log,
		TimeType: "timestamptz",
		// Servers starting together wait for the first, then find
		// nothing left to do.
		Lock: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock)
			return err
		},
	})
}

// Close closes every connection, waiting for those in use to be released;
// calling it again does nothing.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		err = errors.Join(sqlstore.CloseStatements(db.Store), db.sql.Close())
		db.pool.Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: close: %w", err)
	}
	return nil
}

// violation tells which constraint err reports broken.
func violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return sqlstore.Unique
		case "23503": // foreign_key_violation
			return sqlstore.ForeignKey
		}
	}
	return sqlstore.NoViolation
}

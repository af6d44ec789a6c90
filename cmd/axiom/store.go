package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/analytics"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/ratelimit/redislimit"
	"github.com/axiomkit/axiom/internal/store/postgres"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/server"
)

// database is what the command wires together: every store the server,
// the campaign service and the key commands need, which either backend
// offers whole.
type database interface {
	server.LeadStore
	server.TemplateStore
	server.PropertyStore
	analytics.Store
	server.KeyStore
	server.IdempotencyStore
	campaign.Store
	campaign.Outbox
	Bootstrap(ctx context.Context, a axiom.Account, k axiom.Key) (bool, error)
	CreateAccount(ctx context.Context, a axiom.Account) error
	GetAccount(ctx context.Context, id string) (axiom.Account, error)
	CreateKey(ctx context.Context, k axiom.Key) error
	ListKeys(ctx context.Context, accountID string) ([]axiom.Key, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	Seed(ctx context.Context, d axiom.Dataset) error
	Reset(ctx context.Context, d axiom.Dataset) error
	Export(ctx context.Context) (axiom.Dataset, error)
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens the database a --db value names; its form picks the
// backend: a postgres:// or postgresql:// URL is PostgreSQL, anything else
// (a file path or :memory:) SQLite. Only serve creates a database
// (create): the other commands open an existing one, so that a typo in
// --db is an error, not a new empty database.
func openStore(ctx context.Context, dsn string, create bool) (database, error) {
	if err := checkDatabasePath(dsn, create); err != nil {
		return nil, err
	}
	if isPostgres(dsn) {
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, dsn, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	return db, nil
}

// checkDatabasePath explains, before SQLite does in its own words, a --db
// file whose directory is missing, or that is missing when it must exist.
func checkDatabasePath(dsn string, create bool) error {
	if isPostgres(dsn) {
		return nil
	}
	if dsn == sqlite.Memory {
		if create {
			return nil
		}
		return errors.New("--db :memory: is a new, empty database: name the database file (or postgres:// URL) axiom serve uses")
	}
	dir := filepath.Dir(dsn)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("--db %s: the directory %s does not exist; create it first", dsn, dir)
	}
	if _, err := os.Stat(dsn); !create && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--db %s: no such database (axiom serve --db %s creates it)", dsn, dsn)
	}
	return nil
}

// describeDB names a --db value for the start-up log: its password masked.
func describeDB(dsn string) string {
	if isPostgres(dsn) {
		return redact(dsn)
	}
	if dsn == sqlite.Memory {
		return dsn
	}
	if abs, err := filepath.Abs(dsn); err == nil {
		return abs
	}
	return dsn
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// redact is a URL fit for logs and errors: its password masked.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		scheme, _, _ := strings.Cut(rawURL, ":")
		return scheme + "://…" // unparsable: it may hold a password anywhere
	}
	return u.Redacted()
}

// openRedisLimiter returns the rate limiter shared through the Redis server
// at rawURL, failing as failure says ("fail-open" or "fail-closed") when
// Redis cannot be reached, and the function that closes its client. Redis
// need not answer yet: until it does, the failure mode applies.
func openRedisLimiter(ctx context.Context, rawURL, failure string, log *slog.Logger) (ratelimit.Limiter, func(), error) {
	mode, err := redislimit.ParseFailure(failure)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-failure: %w", err)
	}
	opt, err := redislimit.ParseURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis %s: %w", redact(rawURL), err)
	}
	// The client's own messages (a failed dial, …) join the server's log,
	// at debug level: the limiter logs the failures that matter once.
	redis.SetLogger(redisLog{log})
	rdb := redis.NewClient(opt)
	where := slog.String("redis", redact(rawURL))
	if err := rdb.Ping(ctx).Err(); err != nil {
		effect := "fail with 500 internal_error"
		if mode == redislimit.FailOpen {
			effect = "are admitted uncounted"
		}
		log.Warn("Redis does not answer yet: API requests "+effect+" until it does",
			where, slog.String("redis_failure", mode.String()), slog.Any("error", err))
	} else {
		log.Info("rate limits are shared through Redis", where, slog.String("redis_failure", mode.String()))
	}
	lim := redislimit.New(rdb, redislimit.Options{Failure: mode, Logger: log})
	return lim, func() { rdb.Close() }, nil
}

// redisLog passes the Redis client's messages to the server's log.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

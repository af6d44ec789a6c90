package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema change of a backend.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the NNNN_name.sql files of dir in fsys, in version
// order; every backend embeds its own.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %q is not named NNNN_name.sql", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrations are a backend's schema changes and how it applies them.
type Migrations struct {
	FS  fs.FS
	Dir string
	// TimeType is the column type of a stored time, and TableOptions what
	// follows the definition of schema_migrations, the table of the applied
	// ones, which Migrate creates if the database lacks it.
	TimeType, TableOptions string
	// Lock, run first in each migration's transaction, keeps processes
	// opening one database at once from applying a migration twice; nil
	// where beginning a write transaction is enough (SQLite's BEGIN
	// IMMEDIATE).
	Lock func(ctx context.Context, tx *sql.Tx) error
	Log  *slog.Logger
}

// Migrate applies, each in its own transaction on the write pool, the
// migrations the database lacks, and refuses a database migrated by a
// newer version of the store. A migration's file runs as one statement
// without arguments, which every driver runs whole.
func Migrate(ctx context.Context, s *Store, m Migrations) error {
	ms, err := LoadMigrations(m.FS, m.Dir)
	if err != nil {
		return fmt.Errorf("%s: %w", s.d.Name, err)
	}
	for i, mig := range ms {
		err := RunTx(ctx, s.w, func(tx *sql.Tx) error {
			if m.Lock != nil {
				if err := m.Lock(ctx, tx); err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			c := WriteConn(s, tx)
			if i == 0 {
				if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
					version    INTEGER PRIMARY KEY,
					name       TEXT NOT NULL,
					applied_at `+m.TimeType+` NOT NULL
				)`+m.TableOptions); err != nil {
					return fmt.Errorf("create schema_migrations: %w", err)
				}
				var latest int
				if err := c.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&latest); err != nil {
					return fmt.Errorf("read schema version: %w", err)
				}
				if last := ms[len(ms)-1].Version; latest > last {
					return fmt.Errorf("database schema version %d is newer than this server's %d", latest, last)
				}
			}
			// Checked under the lock, so that two processes never both
			// apply a migration.
			var n int
			if err := c.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", mig.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, mig.SQL); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				mig.Version, mig.Name, s.arg(time.Now())); err != nil {
				return err
			}
			m.Log.InfoContext(ctx, "applied migration", "version", mig.Version, "name", mig.Name)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: migration %s: %w", s.d.Name, mig.Name, err)
		}
	}
	return nil
}

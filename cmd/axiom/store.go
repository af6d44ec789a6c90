package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/axiomkit/axiom/server/store"
	"github.com/axiomkit/axiom/server/store/sqlite"
)

// openStore opens the database a --db value names; its form picks the
// backend (a file path or :memory: is SQLite).
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("--db %s: PostgreSQL is not supported by this build", dsn[:strings.Index(dsn, ":")])
	}
	db, err := sqlite.Open(ctx, dsn, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dsn, err)
	}
	return db, nil
}

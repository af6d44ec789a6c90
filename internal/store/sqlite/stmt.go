package sqlite

import (
	"context"
	"database/sql"

	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// The writer's own statements, run at every write or every commit, are
// prepared once at Open with the store's busiest (sqlstore.Prepare):
// parsing them anew each time cost more than running them.
const (
	savepointSQL  = "SAVEPOINT w"
	releaseSQL    = "RELEASE w"
	rollbackToSQL = "ROLLBACK TO w"
	// flushPending's: index the leads the transaction created, all in one
	// statement so that FTS5 writes them as one segment, and forget them.
	// CROSS JOIN keeps the planner from reading every lead to find the few
	// pending ones, as it would once statistics rate leads_fts_pending big.
	indexPendingSQL = `INSERT INTO leads_fts (rowid, search_text)
		SELECT l.seq, l.search_text FROM leads_fts_pending p CROSS JOIN leads l ON l.seq = p.seq`
	clearPendingSQL = "DELETE FROM leads_fts_pending"
)

var writerStatements = []string{savepointSQL, releaseSQL, rollbackToSQL, indexPendingSQL, clearPendingSQL}

// exec runs query in tx, a transaction of the writer, through its prepared
// statement.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return sqlstore.WriteConn(db.Store, tx).ExecContext(ctx, query, args...)
}

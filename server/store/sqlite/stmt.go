package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Statements run on every request or every write are prepared once, at
// Open: parsing them anew each time cost more than running them.
const (
	insertLeadSQL = `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
		phone, company, type, status, source, tags, notes, custom_fields, search_text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
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

	keyByHashSQL = "SELECT " + keyColumns + ", a.id, a.plan, a.created_at" +
		" FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.hash = ?"
)

var (
	writerStatements = []string{insertLeadSQL, savepointSQL, releaseSQL, rollbackToSQL, indexPendingSQL, clearPendingSQL}
	readerStatements = []string{keyByHashSQL}
)

// prepare prepares the statements of writerStatements on the writer and
// those of readerStatements on the readers.
func (db *DB) prepare(ctx context.Context) error {
	db.stmts = map[string]*sql.Stmt{}
	for _, list := range []struct {
		conns   *sql.DB
		queries []string
	}{{db.w, writerStatements}, {db.r, readerStatements}} {
		for _, q := range list.queries {
			st, err := list.conns.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("sqlite: prepare %q: %w", q, err)
			}
			db.stmts[q] = st
		}
	}
	return nil
}

// closeStatements closes what prepare prepared.
func (db *DB) closeStatements() error {
	var errs []error
	for _, st := range db.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// exec runs query in tx, through its prepared statement if it has one.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := db.stmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

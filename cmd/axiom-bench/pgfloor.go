package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/postgres"
)

// The PostgreSQL floor's statements are those the PostgreSQL store runs
// for the same requests (internal/store/sqlstore and
// internal/store/postgres): the default order's page found in the sort
// index, one insert through the unique index on the email key (its
// tsvector built from the words as the store builds it), and the GIN
// index's prefix search.
const (
	pgFloorList = "SELECT " + floorColumns + " FROM leads WHERE id IN (" +
		"SELECT id FROM leads WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3)" +
		" ORDER BY created_at DESC, id DESC"
	pgFloorSearch = "SELECT " + floorColumns + " FROM leads WHERE account_id = $1 AND search @@ $2::tsquery" +
		" ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
	pgFloorInsert = `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
		phone, company, type, status, source, tags, notes, custom_fields, search, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, array_to_tsvector(string_to_array($16, ' ')), $17, $18)`
)

// pgFloor is the same-work floor on PostgreSQL: net/http, one statement
// prepared once per request, encoding/json; no auth, limits, validation or
// log.
type pgFloor struct {
	account, writeAccount string
	list, search, insert  *sql.Stmt
}

func (f *pgFloor) page(w http.ResponseWriter, r *http.Request, st *sql.Stmt, args ...any) {
	limit := pageLimit(r)
	rows, err := st.QueryContext(r.Context(), append(args, limit+1, 0)...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	leads := make([]floorLead, 0, limit+1)
	for rows.Next() {
		var l floorLead
		if err := rows.Scan(&l.ID, &l.AccountID, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Type, &l.Status, &l.Source,
			(*[]byte)(&l.Tags), (*[]byte)(&l.Notes), (*[]byte)(&l.CustomFields), &l.CreatedAt, &l.UpdatedAt); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
		leads = append(leads, l)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writePage(w, leads, limit)
}

func (f *pgFloor) add(w http.ResponseWriter, r *http.Request) {
	in, ok := floorNewLead(w, r, f.writeAccount)
	if !ok {
		return
	}
	tags, _ := json.Marshal(in.Tags)
	notes, _ := json.Marshal(in.Notes)
	custom, _ := json.Marshal(in.CustomFields)
	if _, err := f.insert.ExecContext(r.Context(), in.ID, in.AccountID, in.Name, in.Email, axiom.EmailKey(in.Email),
		axiom.SortKey(in.Name), axiom.SortKey(in.Email), in.Phone, in.Company, in.Type, in.Status, in.Source,
		string(tags), string(notes), string(custom), postgres.SearchText(in), in.CreatedAt, in.UpdatedAt); err != nil {
		code := http.StatusInternalServerError
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" {
			code = http.StatusConflict
		}
		http.Error(w, err.Error(), code)
		return
	}
	writeCreated(w, in, tags, notes, custom)
}

func (f *pgFloor) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/leads", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("search"); q != "" {
			f.page(w, r, f.search, f.account, postgres.TSQuery(axiom.SearchWords(q)))
			return
		}
		f.page(w, r, f.list, f.account)
	})
	mux.HandleFunc("POST /v1/leads/add", f.add)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return mux
}

// openPGFloor connects to the schema url names through the store's driver
// and pool (pgx's, its default size, through database/sql) and prepares the
// floor's statements once per connection.
func openPGFloor(ctx context.Context, url, account, writeAccount string) (*pgFloor, *sql.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// One database/sql connection per pool connection, all kept: a
	// connection closed as idle and opened again would prepare the
	// statements anew.
	n := int(cfg.MaxConns)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	f := &pgFloor{account: account, writeAccount: writeAccount}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&f.list, pgFloorList}, {&f.search, pgFloorSearch}, {&f.insert, pgFloorInsert}} {
		if *p.st, err = db.PrepareContext(ctx, p.sql); err != nil {
			db.Close()
			pool.Close()
			return nil, nil, fmt.Errorf("prepare: %w", err)
		}
	}
	return f, db, nil
}

// isPostgres says whether a --db value names PostgreSQL, as axiom serve
// reads it.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// withParam is the URL u with the query parameter k set to v.
func withParam(u, k, v string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("postgres URL: %w", err)
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String(), nil
}

// benchSchema creates a schema of the run's own on the PostgreSQL server
// base names, so that no other user of that database is touched, and
// returns the URL that works in it and the function that drops it.
func benchSchema(ctx context.Context, base string) (string, func() error, error) {
	name := "axiom_bench_" + strings.ToLower(rand.Text())
	u, err := withParam(base, "search_path", name)
	if err != nil {
		return "", nil, err
	}
	exec := func(ctx context.Context, stmt string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("postgres: %s: %w", stmt, err)
		}
		return nil
	}
	if err := exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, err
	}
	drop := func() error {
		// The run's context may be cancelled by then: drop the schema anyway.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return exec(ctx, "DROP SCHEMA "+name+" CASCADE")
	}
	return u, drop, nil
}

// describePostgres names the server and the settings that decide what a
// commit costs, for the report.
func describePostgres(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	var version, syncCommit, fsync string
	for _, q := range []struct {
		sql string
		v   *string
	}{{"SHOW server_version", &version}, {"SHOW synchronous_commit", &syncCommit}, {"SHOW fsync", &fsync}} {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.v); err != nil {
			return "", fmt.Errorf("postgres: %s: %w", q.sql, err)
		}
	}
	return fmt.Sprintf("PostgreSQL %s on loopback, synchronous_commit=%s, fsync=%s; one schema of the run's own, shared by the servers",
		version, syncCommit, fsync), nil
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the store's driver, so that only the stack above it differs

	"github.com/axiomkit/axiom"
)

// The floor's statements are the SQLite store's for the same requests,
// written out as a careful hand-written server would: the default order's
// page, one insert through the same unique index, and the scan plan the
// store picks for a common word (the sort index read in order, each lead's
// words tested).
const (
	floorColumns = "id, account_id, name, email, phone, company, type, status, source, tags, notes, custom_fields, created_at, updated_at"
	floorList    = "SELECT " + floorColumns + " FROM leads WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
	floorSearch  = "SELECT " + floorColumns + " FROM leads WHERE account_id = ? AND (' ' || search_text) LIKE ? ORDER BY created_at DESC, id DESC LIMIT ?"
	floorInsert  = `INSERT INTO leads (id, account_id, name, email, email_key, name_sort, email_sort,
		phone, company, type, status, source, tags, notes, custom_fields, search_text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// floorLead is a lead as the floor encodes it, with the members axiom
// answers: its JSON columns passed through as they are stored, its account
// read (as the store reads it) but not sent.
type floorLead struct {
	ID           string          `json:"id"`
	AccountID    string          `json:"-"`
	Name         string          `json:"name"`
	Email        string          `json:"email"`
	Phone        string          `json:"phone"`
	Company      string          `json:"company"`
	Type         string          `json:"type"`
	Status       string          `json:"status"`
	Source       string          `json:"source"`
	Tags         json.RawMessage `json:"tags"`
	Notes        json.RawMessage `json:"notes"`
	CustomFields json.RawMessage `json:"custom_fields"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

type floorPage struct {
	Data    []floorLead `json:"data"`
	Length  int         `json:"length"`
	HasMore bool        `json:"has_more"`
}

// floorServer is the same-work floor: net/http, one prepared statement per
// request, encoding/json; no auth, no limits, no validation, no log.
type floorServer struct {
	account, writeAccount string
	list, search, insert  *sql.Stmt
}

// pageLimit is the page's size the request asks for: 20 unless given.
func pageLimit(r *http.Request) int {
	if s := r.URL.Query().Get("limit"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= 100 {
			return n
		}
	}
	return 20
}

// writePage writes the first limit of leads, read with one more than the
// page holds, as the API's page.
func writePage(w http.ResponseWriter, leads []floorLead, limit int) {
	p := floorPage{Data: leads}
	if len(p.Data) > limit {
		p.Data, p.HasMore = p.Data[:limit], true
	}
	p.Length = len(p.Data)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
}

func (f *floorServer) page(w http.ResponseWriter, r *http.Request, st *sql.Stmt, args ...any) {
	limit := pageLimit(r)
	rows, err := st.QueryContext(r.Context(), append(args, limit+1)...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	leads := make([]floorLead, 0, limit+1)
	for rows.Next() {
		var l floorLead
		var created, updated int64
		if err := rows.Scan(&l.ID, &l.AccountID, &l.Name, &l.Email, &l.Phone, &l.Company, &l.Type, &l.Status, &l.Source,
			(*[]byte)(&l.Tags), (*[]byte)(&l.Notes), (*[]byte)(&l.CustomFields), &created, &updated); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		l.CreatedAt, l.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		leads = append(leads, l)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writePage(w, leads, limit)
}

// floorNewLead reads the body of a create into the lead to store in
// account, or answers 400.
func floorNewLead(w http.ResponseWriter, r *http.Request, account string) (axiom.Lead, bool) {
	var body struct {
		Name, Email, Phone, Company, Type, Source string
		Tags, Notes                               []string
		CustomFields                              map[string]string `json:"custom_fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return axiom.Lead{}, false
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	return axiom.Lead{ID: axiom.NewID(axiom.PrefixLead, now), AccountID: account, Name: body.Name, Email: body.Email,
		Phone: body.Phone, Company: body.Company, Type: body.Type, Status: "active", Source: body.Source,
		Tags: body.Tags, Notes: body.Notes, CustomFields: body.CustomFields, CreatedAt: now, UpdatedAt: now}, true
}

// writeCreated answers 201 with the lead stored.
func writeCreated(w http.ResponseWriter, in axiom.Lead, tags, notes, custom []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(floorLead{ID: in.ID, AccountID: in.AccountID, Name: in.Name, Email: in.Email,
		Phone: in.Phone, Company: in.Company, Type: in.Type, Status: in.Status, Source: in.Source,
		Tags: tags, Notes: notes, CustomFields: custom, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt})
}

func (f *floorServer) add(w http.ResponseWriter, r *http.Request) {
	in, ok := floorNewLead(w, r, f.writeAccount)
	if !ok {
		return
	}
	tags, _ := json.Marshal(in.Tags)
	notes, _ := json.Marshal(in.Notes)
	custom, _ := json.Marshal(in.CustomFields)
	ms := in.CreatedAt.UnixMilli()
	if _, err := f.insert.ExecContext(r.Context(), in.ID, in.AccountID, in.Name, in.Email, axiom.EmailKey(in.Email),
		axiom.SortKey(in.Name), axiom.SortKey(in.Email), in.Phone, in.Company, in.Type, in.Status, in.Source,
		string(tags), string(notes), string(custom), in.SearchText(), ms, ms); err != nil {
		code := http.StatusInternalServerError
		if strings.Contains(err.Error(), "UNIQUE") {
			code = http.StatusConflict
		}
		http.Error(w, err.Error(), code)
		return
	}
	writeCreated(w, in, tags, notes, custom)
}

func (f *floorServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/leads", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("search"); q != "" {
			f.page(w, r, f.search, f.account, "% "+strings.ToLower(q)+"%")
			return
		}
		f.page(w, r, f.list, f.account)
	})
	mux.HandleFunc("POST /v1/leads/add", f.add)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return mux
}

// floorMain is `axiom-bench floor`: the same-work floor as a process of its
// own on a copy of the seeded SQLite database or on the seeded PostgreSQL
// schema, until SIGTERM.
func floorMain(args []string) error {
	fs := flag.NewFlagSet("axiom-bench floor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	path := fs.String("db", "", "the SQLite database, or a postgres:// URL")
	account := fs.String("account", "", "the account listed and searched")
	writeAccount := fs.String("write-account", "", "the account the creates fill")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var h http.Handler
	var db *sql.DB
	var err error
	if isPostgres(*path) {
		var f *pgFloor
		f, db, err = openPGFloor(context.Background(), *path, *account, *writeAccount)
		if f != nil {
			h = f.handler()
		}
	} else {
		var f *floorServer
		f, db, err = openFloor(*path, *account, *writeAccount)
		if f != nil {
			h = f.handler()
		}
	}
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return serveUntilSignal(ln, h)
}

// openFloor opens the database at path with the store's settings (WAL, a
// sync of the log per commit, as many connections as the store's readers
// plus its writer) and prepares the floor's statements once.
func openFloor(path, account, writeAccount string) (*floorServer, *sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(5)
	db.SetMaxIdleConns(5)
	f := &floorServer{account: account, writeAccount: writeAccount}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{{&f.list, floorList}, {&f.search, floorSearch}, {&f.insert, floorInsert}} {
		if *p.st, err = db.Prepare(p.sql); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return f, db, nil
}

// serveUntilSignal serves h on ln with the timeouts of `axiom serve`, so
// that only the handler differs, until SIGTERM.
func serveUntilSignal(ln net.Listener, h http.Handler) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/pgtest"
	"github.com/axiomkit/axiom/internal/store/postgres"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/servertest"
)

// seedLeads is enough leads for a full page of the search word's matches
// (about one lead in sixteen has it) and a next page.
const seedLeads = 400

// hostOf is the host:port of a server's base URL.
func hostOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// The PostgreSQL floor answers the list and the search the load run drives
// with the leads axiom answers on the same schema, in the same order and
// field for field, and creates as axiom does: 201, then 409 for the same
// email.
func TestPostgresFloorAnswersAsAxiom(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()
	keys, err := seedPostgres(ctx, u, seedLeads)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	spec, err := server.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	camps, err := campaign.NewService(campaign.Config{Store: st, PublicURL: "http://localhost/v1"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Config{
		Leads: st, Templates: st, Properties: st, Analytics: st, Keys: st, Idempotency: st, Campaigns: camps, Ready: st,
		Responses: validation.ResponseEnforce, Spec: spec,
	})
	if err != nil {
		t.Fatal(err)
	}
	ax := httptest.NewUnstartedServer(h)
	ax.Config.ConnContext = server.ConnContext
	ax.Start()
	defer ax.Close()

	f, db, err := openPGFloor(ctx, u, keys.ReadAccount, keys.WriteAccount)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fl := httptest.NewServer(f.handler())
	defer fl.Close()

	if err := samePages(hostOf(t, fl.URL), hostOf(t, ax.URL), keys); err != nil {
		t.Fatal(err)
	}
	// The compared search is a full page with more to come, so that the
	// order of the matches is tested, not only which they are.
	p, err := getPage(hostOf(t, ax.URL), comparedPaths[1], keys.ReadKey)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p["data"].([]any); len(d) != 20 || p["has_more"] != true {
		t.Fatalf("axiom's search page: %d leads, has_more %v; want 20 and more", len(d), p["has_more"])
	}

	for i, want := range []int{http.StatusCreated, http.StatusConflict} {
		resp, err := http.Post(fl.URL+"/v1/leads/add", "application/json", strings.NewReader(string(newLead(7))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("add %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	// What the floor stored, axiom reads back as its own: the one lead of
	// the write account, found by a search on its words.
	var n int
	if err := db.QueryRow("SELECT count(*) FROM leads WHERE account_id = $1", keys.WriteAccount).Scan(&n); err != nil || n != 1 {
		t.Fatalf("leads in the write account: %d, %v", n, err)
	}
	found, err := getPage(hostOf(t, ax.URL), "/v1/leads?search=load.test.7", keys.WriteKey)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := found["data"].([]any); len(d) != 1 {
		t.Fatalf("axiom finds %d leads of the floor's create, want 1", len(d))
	}
}

// The SQLite floor answers the list and the search as axiom does on a copy
// of the same file.
func TestSQLiteFloorAnswersAsAxiom(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.db")
	keys, err := seed(context.Background(), path, seedLeads)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "floor.db")
	if err := copyFile(path, copyPath); err != nil {
		t.Fatal(err)
	}
	f, db, err := openFloor(copyPath, keys.ReadAccount, keys.WriteAccount)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fl := httptest.NewServer(f.handler())
	defer fl.Close()
	srv := servertest.New(t, servertest.WithDatabase(path), servertest.WithoutRateLimit())
	if err := samePages(hostOf(t, fl.URL), hostOf(t, srv.URL), keys); err != nil {
		t.Fatal(err)
	}
}

// comparePages finds every kind of difference the run must refuse.
func TestComparePages(t *testing.T) {
	lead := func(id string, extra ...string) map[string]any {
		l := map[string]any{"id": id, "name": "Ana Silva", "company": ""}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	page := func(more bool, leads ...map[string]any) map[string]any {
		d := make([]any, len(leads))
		for i, l := range leads {
			d[i] = l
		}
		return map[string]any{"data": d, "has_more": more, "length": float64(len(leads))}
	}
	want := page(true, lead("cnt_2"), lead("cnt_1"))
	for _, tt := range []struct {
		name string
		got  map[string]any
		err  string // "" when the pages are the same
	}{
		{"same", page(true, lead("cnt_2"), lead("cnt_1")), ""},
		{"order", page(true, lead("cnt_1"), lead("cnt_2")), "lead 0 is cnt_1, want cnt_2"},
		{"fewer", page(true, lead("cnt_2")), "length is 1, want 2"},
		{"has_more", page(false, lead("cnt_2"), lead("cnt_1")), "has_more is false"},
		{"field", page(true, lead("cnt_2", "name", "Ana Silvia"), lead("cnt_1")), "name is Ana Silvia"},
		{"missing field", page(true, map[string]any{"id": "cnt_2", "name": "Ana Silva"}, lead("cnt_1")), "company is <nil>"},
		{"extra field", page(true, lead("cnt_2", "account_id", "acc_1"), lead("cnt_1")), "account_id is acc_1, which axiom leaves out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := comparePages(tt.got, want)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("comparePages: %v, want %q", err, tt.err)
			}
		})
	}
	if err := comparePages(page(false), page(false)); err == nil {
		t.Error("two empty pages compared equal: the comparison would prove nothing")
	}
}

package main

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/cmd/axiom-bench/internal/load"
)

// The bare handler sends what was captured, byte for byte, per route.
func TestBareHandler(t *testing.T) {
	reps := replies{
		"list":   {Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}}, Body: []byte(`{"data":[1]}`)},
		"search": {Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"data":[2]}`)},
		"add":    {Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"data":3}`)},
	}
	srv := httptest.NewServer(bareHandler(reps))
	defer srv.Close()
	for _, tt := range []struct {
		method, path, reply string
	}{
		{"GET", "/v1/leads?limit=20", "list"},
		{"GET", "/v1/leads?search=silva&limit=20", "search"},
		{"POST", "/v1/leads/add", "add"},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(`{"name":"x"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := reps[tt.reply]
		if resp.StatusCode != want.Status || string(body) != string(want.Body) {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, body, want.Status, want.Body)
		}
		for name := range want.Header {
			if resp.Header.Get(name) != want.Header.Get(name) {
				t.Errorf("%s %s: header %s %q, want %q", tt.method, tt.path, name, resp.Header.Get(name), want.Header.Get(name))
			}
		}
	}
}

func TestReportRatios(t *testing.T) {
	run := func(ok int64) measured {
		return measured{Result: load.Result{OK: ok, Elapsed: time.Second, P50: time.Millisecond, P99: 2 * time.Millisecond}}
	}
	ts := targets()[:3]
	s := scenarios[0]
	r := &report{targets: ts, results: map[string][]measured{}}
	// Round by round the server does half of what the bare handler does and
	// 0.8 of what the floor does, though the machine's speed changes between
	// rounds.
	for _, round := range []int64{1000, 4000, 2000} {
		r.add(s, ts[0], run(round))
		r.add(s, ts[1], run(round*5/8))
		r.add(s, ts[2], run(round/2))
	}
	if ts[0].slug != "bare" || ts[1].slug != "floor" || ts[2].slug != "off" {
		t.Fatalf("targets begin %s, %s, %s", ts[0].slug, ts[1].slug, ts[2].slug)
	}
	x := r.row(s, ts[2])
	if x.bare != 0.5 || x.floor != 0.8 || x.off != 1 || x.rate != 1000 {
		t.Errorf("× bare %v, × floor %v, × off %v, req/s %v; want 0.5, 0.8, 1, 1000", x.bare, x.floor, x.off, x.rate)
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want string
	}{{0, "0"}, {999.6, "1,000"}, {12345, "12,345"}, {1234567, "1,234,567"}} {
		if got := thousands(tt.f); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 = %v", got)
	}
	if got := median([]time.Duration{4, 1, 3, 2}); got != 2 {
		t.Errorf("median of 4 = %v", got)
	}
}

func TestParseOptions(t *testing.T) {
	if _, err := parseOptions(nil, io.Discard); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for _, args := range [][]string{
		{"-scenarios", "list,nope"},
		{"-rounds", "0"},
		{"-duration", "-1s"},
		{"extra"},
		{"-backends", "sqlite,mysql"},
		{"-postgres", "mysql://localhost/axiom"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestNewLeadIsValidAndUnique(t *testing.T) {
	a, b := string(newLead(1)), string(newLead(2))
	if a == b || !strings.Contains(a, `"email":"load.test.1@example-realty.com"`) {
		t.Errorf("bodies %s and %s", a, b)
	}
}

// The seeded leads must be what the API could have stored: response
// validation refuses a page holding, say, a repeated tag.
func TestSeededLeadsAreValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	emails := map[string]bool{}
	for i := range 2000 {
		l := lead(r, "acc_1", i)
		if len(l.Tags) != 2 || l.Tags[0] == l.Tags[1] {
			t.Fatalf("lead %d: tags %v, want two different", i, l.Tags)
		}
		if emails[l.Email] || !strings.HasSuffix(l.Email, "@example-realty.com") || strings.ContainsAny(l.Email, " éü") {
			t.Fatalf("lead %d: email %q repeated or not plain", i, l.Email)
		}
		emails[l.Email] = true
		if !slices.Contains(leadTypes, l.Type) {
			t.Fatalf("lead %d: type %q", i, l.Type)
		}
	}
}

// Without a PostgreSQL URL the report says that its run was skipped, and
// why, where its table would be.
func TestReportSkipped(t *testing.T) {
	var out, log strings.Builder
	if err := run(t.Context(), []string{"-backends", "postgres", "-postgres", "", "-axiom", "/nonexistent"}, &out, &log); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "#### PostgreSQL") || !strings.Contains(got, "Skipped: no PostgreSQL to run on") || strings.Contains(got, "| Request |") {
		t.Errorf("report without PostgreSQL:\n%s", got)
	}
}

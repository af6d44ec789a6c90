package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/internal/faults"
	"github.com/axiomkit/axiom/internal/fixture"
	"github.com/axiomkit/axiom/internal/pgtest"
	"github.com/axiomkit/axiom/internal/store/storetest"
	"github.com/axiomkit/axiom/server/servertest"
)

const (
	example = "../../docs/fixture.example.yaml"
	demoKey = "axm_demo0000000000000000000000000000000000"
)

// axiomCmd runs the command in-process and returns what it printed.
func axiomCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// countLeads is how many leads the key's account lists (at most 100).
func countLeads(t *testing.T, addr, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/leads?limit=100", nil)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/leads: %d %s", resp.StatusCode, body)
	}
	return strings.Count(string(body), `"email":`)
}

// A fixture loads on each backend, again without change, and reads back
// through export as it was written.
func TestSeedAndExport(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "axiom.db") },
		"postgres": func(t *testing.T) string { return pgtest.Schema(t) },
	}
	want, err := fixture.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for name, newDB := range backends {
		t.Run(name, func(t *testing.T) {
			db := newDB(t)
			for i := range 2 {
				addr, stdout, stderr, stop := startServe(t, "--db", db, "--seed", example)
				if n := countLeads(t, addr, demoKey); n != 3 {
					t.Fatalf("start %d: the seeded account lists %d leads; want 3", i+1, n)
				}
				if keyRE.MatchString(stdout.String()) {
					t.Errorf("start %d printed a bootstrap key, though the seed has accounts:\n%s", i+1, stdout)
				}
				if !strings.Contains(stderr.String(), `"msg":"seeded"`) {
					t.Errorf("no line of the seed in the log:\n%s", stderr)
				}
				if err := stop(); err != nil {
					t.Fatal(err)
				}
			}
			out, _, err := axiomCmd(t, "export", "--db", db)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fixture.Parse("export.yaml", []byte(out))
			if err != nil {
				t.Fatalf("the export does not read back: %v\n%s", err, out)
			}
			if diff := storetest.DatasetDiff(got, want); diff != "" {
				t.Errorf("export after seeding twice: %s", diff)
			}
			if strings.Contains(out, demoKey) {
				t.Error("the export holds a key's secret")
			}
			// The export seeds another database to the same state.
			file := filepath.Join(t.TempDir(), "export.json")
			if _, _, err := axiomCmd(t, "export", "--db", db, "--format", "json", "--out", file); err != nil {
				t.Fatal(err)
			}
			other := newDB(t)
			addr, _, _, stop := startServe(t, "--db", other, "--seed", file)
			if n := countLeads(t, addr, demoKey); n != 3 {
				t.Errorf("a database seeded from the export lists %d leads; want 3", n)
			}
			stop()
		})
	}
}

// A broken fixture is refused whole, naming where, and nothing is stored.
func TestSeedRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	// The last account's key is too short to be a key: its line, the file's last.
	broken := strings.Replace(string(text), "axm_other000000000000000000000000000000000", "short", 1)
	os.WriteFile(bad, []byte(broken), 0o600)
	db := filepath.Join(dir, "axiom.db")
	_, _, err = axiomCmd(t, "serve", "--addr", "127.0.0.1:0", "--db", db, "--seed", bad)
	line := strings.Count(strings.TrimSpace(broken), "\n") + 1
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:9: accounts[1].keys[0].secret: must be at least 16 characters long", bad, line)) {
		t.Fatalf("serve --seed of a broken fixture: %v", err)
	}
	// The fixture is checked before the database is touched: none was made.
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve --seed of a broken fixture left a database behind: %v", err)
	}
}

// Fault rules from flags and a file, changed and reset through the admin
// endpoint, on its own loopback listener with its own token.
func TestServeFaultsAndAdmin(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "faults.yaml")
	os.WriteFile(rules, []byte("- name: slow-templates\n  operation: listTemplates\n  latency: 1ms\n"), 0o600)
	addr, stdout, stderr, stop := startServe(t, "--db", ":memory:", "--seed", example,
		"--fault", "name=lists,operation=listLeads,status=503,retry_after=2,times=1", "--faults", rules, "--admin-addr", ":0")
	defer stop()
	get := func(path string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("X-API-Key", demoKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	if status, h := get("/v1/leads"); status != 503 || h.Get("Retry-After") != "2" {
		t.Errorf("the first list: %d, Retry-After %q; want 503 and 2", status, h.Get("Retry-After"))
	}
	if status, _ := get("/v1/leads"); status != 200 {
		t.Errorf("the second list: %d; the rule was for one", status)
	}
	if status, _ := get("/v1/templates"); status != 200 {
		t.Errorf("a delayed list: %d", status)
	}
	m := regexp.MustCompile(`"admin_addr":"([^"]+)"`).FindStringSubmatch(stderr.String())
	if m == nil || !strings.HasPrefix(m[1], "127.0.0.1:") {
		t.Fatalf("the admin endpoint is not on loopback:\n%s", stderr)
	}
	token := strings.TrimSpace(regexp.MustCompile(`(?m)^    ([A-Z2-7]{26})$`).FindString(stdout.String()))
	if token == "" {
		t.Fatalf("no admin token printed:\n%s", stdout)
	}
	admin := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+m[1]+"/admin"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := admin("GET", "/faults"); status != 200 || !strings.Contains(body, `"name":"lists"`) || !strings.Contains(body, `"name":"slow-templates"`) {
		t.Errorf("the rules of flag and file: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+addr+"/v1/leads/cnt_jane", nil)
	req.Header.Set("X-API-Key", demoKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	if n := countLeads(t, addr, demoKey); n != 2 {
		t.Fatalf("%d leads after a delete", n)
	}
	if status, body := admin("POST", "/reset"); status != 200 {
		t.Fatalf("reset: %d %s", status, body)
	}
	if n := countLeads(t, addr, demoKey); n != 3 {
		t.Errorf("%d leads after the reset; want the seed's 3", n)
	}
	// The admin endpoint is not on the API's listener.
	if status := getStatus(t, "http://"+addr+"/admin/faults"); status != 404 {
		t.Errorf("the API's listener answers /admin/faults %d; want 404", status)
	}
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// axiom proxy: a conforming upstream passes, a faulty one fails the run.
func TestProxyCommand(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults []faults.Fault
		want   error
	}{
		{"conforming", nil, nil},
		{"a rate-limit header missing", []faults.Fault{faults.DropHeader(faults.ListLeads, "X-RateLimit-Limit")}, errFindings},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := servertest.New(t)
			u, _ := url.Parse(srv.URL)
			upstream := httptest.NewServer(faults.Chain(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}), tt.faults...))
			defer upstream.Close()
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"proxy", "--upstream", upstream.URL + "/v1", "--addr", "127.0.0.1:0", "--fail-on-violation"}, &stdout, &stderr)
			}()
			var addr string
			for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				cancel()
				t.Fatalf("the proxy did not start:\n%s", stderr.String())
			}
			for range 3 {
				if get(t, "http://"+addr+"/v1/leads", srv.Key) != 200 {
					t.Error("a request through the proxy failed")
				}
			}
			cancel()
			err := <-done
			if !errors.Is(err, tt.want) {
				t.Errorf("proxy ended with %v; want %v\n%s", err, tt.want, stderr.String())
			}
			if !strings.Contains(stdout.String(), "3 requests") {
				t.Errorf("no summary:\n%s", stdout.String())
			}
			if strings.Contains(stderr.String(), srv.Key) || strings.Contains(stdout.String(), srv.Key) {
				t.Error("the proxy printed the API key")
			}
		})
	}
}

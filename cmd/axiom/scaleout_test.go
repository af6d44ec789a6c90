package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/pgtest"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// scaleServer is an `axiom serve` process of the scale-out tests.
type scaleServer struct {
	cmd            *exec.Cmd
	base           string // http://ADDR/v1
	stdout, stderr *syncBuffer
	exited         chan struct{}
	err            error
}

// startScaleServer runs bin serve with args on a free loopback port and
// waits until it listens; the process is stopped when the test ends.
func startScaleServer(t *testing.T, bin string, args ...string) *scaleServer {
	t.Helper()
	s := &scaleServer{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has ended already
		<-s.exited
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if m := addrRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.base = "http://" + m[1] + "/v1"
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("axiom serve ended early: %v\n%s", s.err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("axiom serve did not start:\n%s", s.stderr.String())
	return nil
}

// buildScaleBinary builds the axiom command into a temporary directory.
func buildScaleBinary(t *testing.T) string {
	t.Helper()
	return buildBinary(t)
}

// scaleEnv returns the PostgreSQL and Redis URLs the scale-out test runs
// on, or skips it when either is unset.
func scaleEnv(t *testing.T) (pg, rdb string) {
	t.Helper()
	pg, rdb = os.Getenv("AXIOM_TEST_POSTGRES_URL"), os.Getenv("AXIOM_TEST_REDIS_URL")
	if pg == "" || rdb == "" {
		t.Skip("AXIOM_TEST_POSTGRES_URL and AXIOM_TEST_REDIS_URL must both be set: no PostgreSQL and Redis to scale out on (.ci/services.sh starts them)")
	}
	return pg, rdb
}

// scaleSchema creates an empty schema, dropped when the test ends, and
// returns the URL of pg that works in it.
func scaleSchema(t *testing.T, pg string) string { return pgtest.SchemaOf(t, pg) }

// scaleResponse is what the tests read of an answer.
type scaleResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// errorCode is the envelope's error.code, or "".
func (r scaleResponse) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func scaleDo(t *testing.T, method, url, key string, body any) scaleResponse {
	t.Helper()
	return scaleDoHeaders(t, method, url, key, body, nil)
}

func scaleDoHeaders(t *testing.T, method, url, key string, body any, headers map[string]string) scaleResponse {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Axiom-API-Key", key)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	r := scaleResponse{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %v", method, url, resp.StatusCode, err)
	}
	return r
}

// Two servers on one PostgreSQL and one Redis are one service: what one
// writes the other reads, the database refuses duplicates sent to either,
// and a key's burst is shared.
func TestScaleOut(t *testing.T) {
	pg, redisURL := scaleEnv(t)
	db := scaleSchema(t, pg)
	bin := buildScaleBinary(t)

	// The first server creates the first account and prints its Starter key;
	// the second starts on the migrated database and creates nothing.
	a := startScaleServer(t, bin, "--db", db, "--redis", redisURL)
	key := keyRE.FindString(a.stdout.String())
	if key == "" {
		t.Fatalf("the first server printed no key:\n%s", a.stdout.String())
	}
	b := startScaleServer(t, bin, "--db", db, "--redis", redisURL)
	if k := keyRE.FindString(b.stdout.String()); k != "" {
		t.Errorf("the second server created another account and key")
	}
	for _, s := range []*scaleServer{a, b} {
		if !strings.Contains(s.stderr.String(), "rate limits are shared through Redis") {
			t.Errorf("a server does not say it shares its rate limits:\n%s", s.stderr.String())
		}
	}

	lead := map[string]any{"name": "Scaled Lead", "email": "Scaled.Lead@example.com", "tags": []string{"scale-out"}}
	created := scaleDo(t, http.MethodPost, a.base+"/leads/add", key, lead)
	if created.status != http.StatusCreated {
		t.Fatalf("POST /leads/add through the first server: %d %v", created.status, created.body)
	}
	data, _ := created.body["data"].(map[string]any)
	id, _ := data["id"].(string)

	list := scaleDo(t, http.MethodGet, b.base+"/leads?limit=20&search=scale", key, nil)
	items, _ := list.body["data"].([]any)
	if list.status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Errorf("GET /leads through the second server = %d %v; want the lead %s", list.status, list.body, id)
	}

	lead["email"] = "scaled.LEAD@example.com"
	dup := scaleDo(t, http.MethodPost, b.base+"/leads/add", key, lead)
	if dup.status != http.StatusUnprocessableEntity || dup.errorCode() != "duplicate_entry" {
		t.Errorf("duplicate POST through the second server = %d %v; want 422 duplicate_entry", dup.status, dup.body)
	}

	// A fresh Starter key, used through both servers in turn, is admitted
	// its burst, plus what refilled meanwhile, and then refused by both.
	var out syncBuffer
	if err := run(t.Context(), []string{"keys", "create", "--db", db, "--plan", "starter"}, &out, &out); err != nil {
		t.Fatalf("keys create: %v\n%s", err, out.String())
	}
	starter := keyRE.FindString(out.String())
	l := ratelimit.PlanLimit(axiom.PlanStarter)
	start := time.Now()
	allowed, denied := 0, 0
	for i := 0; denied < 4; i++ {
		s := []*scaleServer{a, b}[i%2]
		r := scaleDo(t, http.MethodGet, s.base+"/leads?limit=1", starter, nil)
		switch {
		case r.status == http.StatusOK && denied == 0:
			allowed++
		case r.status == http.StatusTooManyRequests:
			denied++
			if r.errorCode() != "rate_limit_exceeded" || r.header.Get("Retry-After") == "" || r.header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("429 = %v, headers %v; want the envelope, Retry-After and no remaining", r.body, r.header)
			}
		default:
			t.Fatalf("request %d: %d %v after %d allowed and %d denied", i+1, r.status, r.body, allowed, denied)
		}
		if i > 10*l.Burst {
			t.Fatalf("no 429 after %d requests", i+1)
		}
	}
	refilled := int(time.Since(start) / l.Interval())
	if allowed < l.Burst || allowed > l.Burst+refilled {
		t.Errorf("a Starter key was admitted %d requests across two servers before its first 429; want %d (+%d refilled)",
			allowed, l.Burst, refilled)
	}
	t.Logf("a Starter key: %d admitted across two servers, then 429s (%d refilled in %v)", allowed, refilled, time.Since(start))
}

// Whichever --redis-failure says, a server whose Redis cannot be reached
// keeps answering with the API's envelope: 200s uncounted when failing
// open, 500 internal_error when failing closed.
func TestRedisUnreachable(t *testing.T) {
	// A port nothing listens on.
	dead := "redis://127.0.0.1:1/0"
	for _, tc := range []struct {
		mode   string
		status int
		code   string
	}{
		{"fail-open", http.StatusOK, ""},
		{"fail-closed", http.StatusInternalServerError, "internal_error"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			addr, stdout, stderr, _ := startServe(t, "--db", filepath.Join(t.TempDir(), "axiom.db"),
				"--redis", dead, "--redis-failure", tc.mode)
			key := keyRE.FindString(stdout.String())
			if !strings.Contains(stderr.String(), "Redis does not answer yet") {
				t.Errorf("no warning that Redis does not answer:\n%s", stderr.String())
			}
			for i := range 3 {
				r := scaleDo(t, http.MethodGet, "http://"+addr+"/v1/leads", key, nil)
				if r.status != tc.status || r.errorCode() != tc.code {
					t.Errorf("request %d: %d %v; want %d %q", i+1, r.status, r.body, tc.status, tc.code)
				}
				if tc.mode == "fail-open" {
					l := ratelimit.PlanLimit(axiom.PlanStarter)
					if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(l.Burst-1) {
						t.Errorf("request %d failing open: X-RateLimit-Remaining %q; want a full bucket's %d", i+1, got, l.Burst-1)
					}
				}
			}
			// Health does not depend on the limiter.
			if got := get(t, "http://"+addr+"/healthz", ""); got != http.StatusOK {
				t.Errorf("/healthz = %d", got)
			}
		})
	}
	// An unknown mode is refused before anything starts.
	var out syncBuffer
	if err := run(t.Context(), []string{"serve", "--redis", dead, "--redis-failure", "open"}, &out, &out); err == nil ||
		!strings.Contains(err.Error(), "redis-failure") {
		t.Errorf("serve --redis-failure open: %v; want an error naming the flag", err)
	}
}

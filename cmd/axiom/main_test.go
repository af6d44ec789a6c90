package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	keyRE  = regexp.MustCompile(`axm_[0-9A-Za-z]{40}`)
	addrRE = regexp.MustCompile(`"addr":"([^"]+)"`)
)

// startServe runs `axiom serve` in-process and returns its address, its
// stdout and stderr, and a function that stops it and returns run's error.
func startServe(t *testing.T, args ...string) (addr string, stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), stdout, stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			stopped := false
			stop = func() error {
				if stopped {
					return nil
				}
				stopped = true
				cancel()
				return <-done
			}
			t.Cleanup(func() { stop() })
			return m[1], stdout, stderr, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve ended early: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s", stderr.String())
	return
}

func get(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Axiom-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeFirstStartPrintsAWorkingKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "axiom.db")
	addr, stdout, stderr, stop := startServe(t, "--db", db)
	key := keyRE.FindString(stdout.String())
	if key == "" {
		t.Fatalf("no key printed:\n%s", stdout.String())
	}
	if got := get(t, "http://"+addr+"/v1/leads", key); got != 200 {
		t.Fatalf("GET /v1/leads with the printed key: %d", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if strings.Contains(stderr.String(), key) {
		t.Fatal("the key was logged")
	}
	// A second start on the same database keeps the key and prints none.
	addr, stdout, _, stop = startServe(t, "--db", db)
	if keyRE.MatchString(stdout.String()) {
		t.Fatalf("a key was printed again:\n%s", stdout.String())
	}
	if got := get(t, "http://"+addr+"/v1/leads", key); got != 200 {
		t.Fatalf("the first key after a restart: %d", got)
	}
	stop()
}

func TestServeFlagsAndEnvironment(t *testing.T) {
	t.Setenv("AXIOM_RATE_LIMIT", "off")
	_, _, stderr, stop := startServe(t, "--db", ":memory:")
	if !strings.Contains(stderr.String(), "RATE LIMITING IS OFF") {
		t.Fatalf("--rate-limit off from AXIOM_RATE_LIMIT was not said loudly:\n%s", stderr.String())
	}
	stop()

	for _, args := range [][]string{
		{"serve", "--response-validation", "sometimes"},
		{"serve", "--rate-limit", "maybe"},
		{"serve", "--log-level", "loud"},
		{"serve", "--no-such-flag"},
		{"nonsense"},
		{"keys", "create", "--plan", "gold", "--db", ":memory:"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestKeysCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "axiom.db")
	ctx := context.Background()
	// The key commands open only a database serve created.
	_, _, _, stopFirst := startServe(t, "--db", db)
	if err := stopFirst(); err != nil {
		t.Fatal(err)
	}
	axiom := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, args, &out, &errOut)
		if err != nil && !errors.Is(err, errUsage) {
			return errOut.String(), err
		}
		return out.String(), err
	}
	out, err := axiom("keys", "create", "--db", db, "--plan", "enterprise", "--name", "ci")
	if err != nil || !regexp.MustCompile(`^axm_[0-9A-Za-z]{40}\n$`).MatchString(out) {
		t.Fatalf("keys create printed %q, %v: want only the key", out, err)
	}
	first := strings.TrimSpace(out)

	list, err := axiom("keys", "list", "--db", db)
	if err != nil || strings.Contains(list, first) || !strings.Contains(list, first[:8]) || !strings.Contains(list, "read-write") {
		t.Fatalf("keys list (must show a hint, never the key):\n%s", list)
	}
	// The line of the key just created (the first start made another).
	var line string
	for l := range strings.Lines(list) {
		if strings.Contains(l, first[:8]) {
			line = l
		}
	}
	account := regexp.MustCompile(`acc_[0-9A-Za-z]+`).FindString(line)
	keyID := regexp.MustCompile(`key_[0-9A-Za-z]+`).FindString(line)

	out, err = axiom("keys", "create", "--db", db, "--account", account, "--read-only")
	if err != nil || !keyRE.MatchString(out) {
		t.Fatalf("keys create --account: %q %v", out, err)
	}
	readOnly := strings.TrimSpace(out)
	if _, err := axiom("keys", "create", "--db", db, "--account", "acc_missing"); err == nil {
		t.Fatal("a key for a missing account was created")
	}
	if _, err := axiom("keys", "revoke", "--db", db, keyID); err != nil {
		t.Fatal(err)
	}
	list, _ = axiom("keys", "list", "--db", db)
	if strings.Count(list, "read-only") != 1 {
		t.Fatalf("keys list after create --read-only:\n%s", list)
	}

	addr, _, _, stop := startServe(t, "--db", db)
	defer stop()
	if got := get(t, "http://"+addr+"/v1/leads", first); got != 401 {
		t.Fatalf("revoked key: %d, want 401", got)
	}
	if got := get(t, "http://"+addr+"/v1/leads", readOnly); got != 200 {
		t.Fatalf("read-only key reading: %d, want 200", got)
	}
}

// axiom version names the module version and the spec's, and --version is
// the same.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out syncBuffer
		if err := run(t.Context(), []string{arg}, &out, &out); err != nil {
			t.Fatalf("axiom %s: %v", arg, err)
		}
		for _, want := range []string{"axiom ", "API description 1.0.0", "go1."} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("axiom %s printed %q: lacks %q", arg, out.String(), want)
			}
		}
	}
}

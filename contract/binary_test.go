package contract_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/contract"
	"github.com/axiomkit/axiom/internal/faults"
	"github.com/axiomkit/axiom/server/servertest"
)

// built is the axiom command, built once for the tests that run it (a
// link is seconds; TestMain removes it).
var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildAxiom returns the axiom command, built once.
func buildAxiom(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "axiom-test-bin-"); built.err != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(built.dir, "axiom"), "github.com/axiomkit/axiom/cmd/axiom").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "axiom")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// serveBinary starts `axiom serve` on a free loopback port over a new
// database and returns its base URL and the key it printed on first start.
// Its bucket of requests without a valid key is unlimited in practice: the
// suite would wait on the default for some 16 s, which
// TestReferenceServerConformsDefaultBucket covers.
func serveBinary(t *testing.T, bin, db string, extra ...string) (baseURL, key string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--unauthenticated-limit", "100000/100000"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	keys := make(chan string, 1)
	addrs := make(chan string, 1)
	var logs bytes.Buffer
	done := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "axm_") {
				keys <- line
			}
		}
	}()
	go func() {
		defer close(done)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logs.Write(append(s.Bytes(), '\n'))
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(s.Bytes(), &entry) == nil && entry.Msg == "listening" {
				addrs <- entry.Addr
			}
		}
	}()
	t.Cleanup(func() {
		// SIGTERM is how the server is meant to stop: it drains and exits 0.
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if err := cmd.Wait(); err != nil {
			t.Errorf("axiom serve did not stop cleanly: %v\n%s", err, logs.String())
		}
	})
	// A guard against a server that never starts, not a timing assertion.
	guard := time.After(time.Minute)
	for key == "" || baseURL == "" {
		select {
		case key = <-keys:
		case a := <-addrs:
			baseURL = "http://" + a + "/v1"
		case <-guard:
			t.Fatalf("axiom serve printed no key or address:\n%s", logs.String())
		}
	}
	return baseURL, key
}

// runContract runs `axiom contract` and returns its stdout and exit code.
func runContract(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	stdout, _, code := runContractOutput(t, bin, args...)
	return stdout, code
}

// runContractOutput runs `axiom contract` and returns its stdout, its
// stderr and its exit code.
func runContractOutput(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"contract"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		t.Logf("axiom contract stderr:\n%s", stderr.String())
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatalf("axiom contract: %v\n%s", err, stderr.String())
	return "", "", -1
}

// TestServeBinary runs `axiom contract` as users do, against a fresh
// `axiom serve` (an Enterprise key, the Starter one it printed as the
// second), relaying its mail to the suite's sink: it exits 0 and prints
// its report; against a faulty server it exits non-zero naming the check.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the axiom command and runs it")
	}
	bin := buildAxiom(t)
	db := filepath.Join(t.TempDir(), "axiom.db")
	// The first account's key (Starter) is the second key; the suite runs on
	// an Enterprise one, as Starter's pacing would take minutes (TestPacesItself
	// paces on a faster small bucket).
	// The server's mail goes to the suite's sink, whose links it follows.
	sink := freeAddr(t)
	base, second := serveBinary(t, bin, db, "--smtp-url", "smtp://"+sink+"?starttls=none")
	out, err := exec.CommandContext(t.Context(), bin, "keys", "create", "--db", db, "--plan", "enterprise").Output()
	if err != nil {
		t.Fatalf("axiom keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))

	args := []string{"--base-url", base, "--api-key", key, "--second-key", second, "--spend-quota", "--mail-sink", sink}
	report, progress, code := runContractOutput(t, bin, args...)
	if code != 0 {
		t.Fatalf("axiom contract exited %d against axiom serve:\n%s", code, report)
	}
	// One progress line per step on stderr, as it runs; the report alone on stdout.
	for _, want := range []string{"[ 1/17] rate-limit headers", "[ 4/17] lead lifecycle       ok", "[17/17] spending the quota"} {
		if !strings.Contains(progress, want) {
			t.Errorf("the progress on stderr lacks %q:\n%s", want, progress)
		}
	}
	if strings.Contains(report, "[ 1/17]") {
		t.Errorf("progress lines in the report on stdout:\n%s", report)
	}
	t.Logf("progress:\n%s", progress)
	// Spending the quota, the suite meets only the 429s it asked for.
	for _, want := range []string{"PASS: the server conforms", "PASS    " + contract.RateLimitEnforced, "PASS    " + contract.TrackingLinks,
		"seed ", "throttled 0 times"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, key) || strings.Contains(report, second) {
		t.Error("the report shows an API key")
	}
	t.Logf("report:\n%s", report)

	t.Run("faulty server", func(t *testing.T) {
		clean := newReference(t, servertest.WithPlan(axiom.PlanEnterprise))
		ref := clean.withFaults(t, faults.AcceptDuplicates())
		args := []string{"--base-url", ref.url, "--api-key", ref.key, "--report", "junit"}
		out, code := runContract(t, bin, args...)
		if code != 1 {
			t.Fatalf("axiom contract exited %d against a server that accepts duplicates, want 1 (non-conformance):\n%s", code, out)
		}
		var suites struct {
			Failures int `xml:"failures,attr"`
			Suite    struct {
				Cases []struct {
					Classname string    `xml:"classname,attr"`
					Failure   *struct{} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.NewDecoder(strings.NewReader(out)).Decode(&suites); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("the JUnit report does not parse: %v\n%s", err, out)
		}
		failed := false
		for _, c := range suites.Suite.Cases {
			failed = failed || c.Classname == contract.DuplicateEmailRejected && c.Failure != nil
		}
		if !failed || suites.Failures == 0 {
			t.Errorf("the JUnit report does not fail %s:\n%s", contract.DuplicateEmailRejected, out)
		}
	})

	// What keeps the suite from checking is a usage error (2), not a finding (1).
	t.Run("usage errors", func(t *testing.T) {
		ref := newReference(t, servertest.WithPlan(axiom.PlanEnterprise))
		readOnly := ref.srv.NewReadOnlyKey(t)
		for _, tt := range []struct {
			name   string
			args   []string
			wantIn string
		}{
			{"read-only key", []string{"--base-url", ref.url, "--api-key", readOnly}, "APIKey may not write"},
			{"no key", []string{"--base-url", ref.url, "--api-key", ""}, "--api-key (or AXIOM_API_KEY) is required"},
			{"unknown flag", []string{"--no-such-flag"}, "flag provided but not defined"},
			{"nothing listening", []string{"--base-url", "http://127.0.0.1:1/v1", "--api-key", "axm_x"}, "is not reachable"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, stderr, code := runContractOutput(t, bin, tt.args...)
				if code != 2 || !strings.Contains(stderr, tt.wantIn) {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.wantIn)
				}
			})
		}
	})
}

// freeAddr is a loopback address no one listens on, for a server started
// later by another process.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

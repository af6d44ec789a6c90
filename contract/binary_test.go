package contract_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/contract"
	"github.com/axiomkit/axiom/internal/faults"
	"github.com/axiomkit/axiom/server/servertest"
)

// buildAxiom builds the axiom command into a temporary directory.
func buildAxiom(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "axiom")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/axiomkit/axiom/cmd/axiom").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveBinary starts `axiom serve` on a free loopback port over a new
// database and returns its base URL and the key it printed on first start.
func serveBinary(t *testing.T, bin, db string) (baseURL, key string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
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
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"contract"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), 0
	case errors.As(err, &exit):
		t.Logf("axiom contract stderr:\n%s", stderr.String())
		return stdout.String(), exit.ExitCode()
	}
	t.Fatalf("axiom contract: %v\n%s", err, stderr.String())
	return "", -1
}

// TestServeBinary is the definition of done: `axiom contract`
// against a fresh `axiom serve`, on the Starter key it prints, exits 0 and
// prints its report; against a faulty server it exits non-zero naming the check.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the axiom command and runs it")
	}
	bin := buildAxiom(t)
	db := filepath.Join(t.TempDir(), "axiom.db")
	// The first account's key (Starter) is the second key; the suite runs on
	// an Enterprise one, as Starter's pacing would take minutes (TestPacesItself
	// paces on a faster small bucket).
	base, second := serveBinary(t, bin, db)
	out, err := exec.CommandContext(t.Context(), bin, "keys", "create", "--db", db, "--plan", "enterprise").Output()
	if err != nil {
		t.Fatalf("axiom keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))

	args := []string{"--base-url", base, "--api-key", key, "--second-key", second, "--spend-quota"}
	report, code := runContract(t, bin, args...)
	if code != 0 {
		t.Fatalf("axiom contract exited %d against axiom serve:\n%s", code, report)
	}
	// Spending the quota, the suite meets only the 429s it asked for.
	for _, want := range []string{"PASS: the server conforms", "PASS    " + contract.RateLimitEnforced, "seed ", "throttled 0 times"} {
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
		if code == 0 {
			t.Fatalf("axiom contract exited 0 against a server that accepts duplicates:\n%s", out)
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
}

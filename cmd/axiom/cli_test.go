package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// built is the axiom command, built once for every test of the package
// that runs it (a link is seconds; TestMain removes it).
var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildBinary returns the axiom command built from this package, as a
// user would run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "axiom-test-bin-"); built.err != nil {
			return
		}
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if out, err := exec.Command(gobin, "build", "-o", filepath.Join(built.dir, "axiom"), ".").CombinedOutput(); err != nil {
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

// runBinary runs bin with args to its end and returns its stdout, stderr
// and exit code.
func runBinary(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(os.Environ(), "AXIOM_API_KEY=", "AXIOM_DB=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// TestCommandLine runs the built command as a user would, for what it
// must never do: touch a database before it can serve, create one by
// mistake, hide a command's help, or answer in a library's words.
func TestCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the axiom command and runs it")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(dir, "axiom.db")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
		noFile   string // a path that must not exist afterwards
	}{
		{name: "busy port", args: []string{"serve", "--addr", busy.Addr().String(), "--db", db},
			wantCode: 2, wantErr: "--addr " + busy.Addr().String(), noFile: db},
		{name: "nonsense address", args: []string{"serve", "--addr", "nonsense", "--db", db},
			wantCode: 2, wantErr: "--addr nonsense", noFile: db},
		{name: "busy admin port", args: []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", busy.Addr().String(), "--db", db},
			wantCode: 2, wantErr: "--admin-addr", noFile: db},
		{name: "missing directory", args: []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "nowhere", "axiom.db")},
			wantCode: 2, wantErr: "the directory " + filepath.Join(dir, "nowhere") + " does not exist"},
		{name: "bad log level", args: []string{"serve", "--log-level", "verbose", "--db", db},
			wantCode: 2, wantErr: `--log-level must be one of debug, info, warn, error, not "verbose"`, noFile: db},
		{name: "bad gc percent", args: []string{"serve", "--gc-percent", "0", "--db", db},
			wantCode: 2, wantErr: `--gc-percent must be a whole number of at least 1`, noFile: db},
		{name: "bad log format", args: []string{"serve", "--log-format", "xml", "--db", db},
			wantCode: 2, wantErr: `--log-format must be json or text, not "xml"`, noFile: db},
		{name: "keys list of a typo", args: []string{"keys", "list", "--db", filepath.Join(dir, "typo.db")},
			wantCode: 2, wantErr: "no such database", noFile: filepath.Join(dir, "typo.db")},
		{name: "keys create in memory", args: []string{"keys", "create", "--db", ":memory:"},
			wantCode: 2, wantErr: "--db :memory: is a new, empty database"},
		{name: "export of a typo", args: []string{"export", "--db", filepath.Join(dir, "typo.db")},
			wantCode: 2, wantErr: "no such database", noFile: filepath.Join(dir, "typo.db")},
		{name: "keys help", args: []string{"keys", "-h"}, wantOut: "axiom keys revoke [flags] ID"},
		{name: "keys help word", args: []string{"keys", "help"}, wantOut: "axiom keys create [flags]"},
		{name: "keys create help", args: []string{"keys", "create", "-h"}, wantErr: "-plan"},
		{name: "keys unknown", args: []string{"keys", "rotate"}, wantCode: 2, wantErr: `unknown command "rotate"`},
		{name: "serve help", args: []string{"serve", "-h"}, wantErr: "-log-format"},
		{name: "contract help", args: []string{"contract", "-h"}, wantErr: "-log-format"},
		{name: "proxy help", args: []string{"proxy", "-h"}, wantErr: "-log-format"},
		{name: "export help", args: []string{"export", "-h"}, wantErr: "-format"},
		{name: "top-level help", args: []string{"--help"}, wantOut: "Exit status: 0 success, 1"},
		{name: "unknown command", args: []string{"serv"}, wantCode: 2, wantErr: `unknown command "serv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, bin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantOut) || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant %q in stdout and %q in stderr", stdout, stderr, tt.wantOut, tt.wantErr)
			}
			if strings.Contains(stdout, "axm_") {
				t.Errorf("a key was printed:\n%s", stdout)
			}
			for _, leak := range []string{"slog:", "sqlite:", "(14)"} {
				if strings.Contains(stderr, leak) {
					t.Errorf("stderr speaks a library's words (%q):\n%s", leak, stderr)
				}
			}
			if tt.noFile != "" {
				if _, err := os.Stat(tt.noFile); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists after the failed command", tt.noFile)
				}
			}
		})
	}

	// After all these failures, the first real start creates the database
	// and prints its key; the start-up log names the database, the address
	// and the public URL, in text when asked, durations as people write them.
	t.Run("first start after failures", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--log-format", "text")
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			s := bufio.NewScanner(stderr)
			for s.Scan() {
				lines <- s.Text()
			}
		}()
		var logs []string
		guard := time.After(time.Minute) // a server that never starts, not a timing assertion
		for listening := false; !listening; {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("serve ended:\n%s", strings.Join(logs, "\n"))
				}
				logs = append(logs, l)
				if strings.Contains(l, "msg=listening") {
					listening = true
					for _, want := range []string{"addr=127.0.0.1:", "public_url=http://localhost:", "db=" + db} {
						if !strings.Contains(l, want) {
							t.Errorf("the start-up line lacks %q: %s", want, l)
						}
					}
				}
			case <-guard:
				t.Fatalf("serve did not start:\n%s", strings.Join(logs, "\n"))
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		for l := range lines {
			logs = append(logs, l)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve did not stop cleanly: %v", err)
		}
		all := strings.Join(logs, "\n")
		if !strings.Contains(all, "grace=15s") {
			t.Errorf("the shutdown line does not give its grace as 15s:\n%s", all)
		}
		if !strings.Contains(stdout.String(), "shown only this once") {
			t.Errorf("the first start printed no key:\n%s", stdout.String())
		}
		if strings.Contains(all, `{"time"`) {
			t.Errorf("--log-format text wrote JSON:\n%s", all)
		}
	})

	// The key commands then work on the database serve created.
	t.Run("keys on the created database", func(t *testing.T) {
		stdout, stderr, code := runBinary(t, bin, "keys", "list", "--db", db)
		if code != 0 || !strings.Contains(stdout, "read-write") {
			t.Errorf("keys list: exit %d\n%s%s", code, stdout, stderr)
		}
	})
}

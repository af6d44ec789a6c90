package main

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDist runs scripts/dist.sh (make dist) for this machine's platform:
// the binary is static, its checksum is in SHA256SUMS, and `axiom version`
// and `go version -m` name the same module version. It compiles everything
// anew without cgo, so it runs with AXIOM_SLOW_TESTS=1.
func TestDist(t *testing.T) {
	if os.Getenv("AXIOM_SLOW_TESTS") == "" {
		t.Skip("builds the program anew without cgo; AXIOM_SLOW_TESTS=1 runs it")
	}
	dir := t.TempDir()
	target := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.CommandContext(t.Context(), "bash", "../../scripts/dist.sh")
	cmd.Env = append(os.Environ(), "DIST="+dir, "TARGETS="+target, "GO="+filepath.Join(runtime.GOROOT(), "bin", "go"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dist.sh: %v\n%s", err, out)
	}
	name := "axiom-" + runtime.GOOS + "-" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dir, name)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums, want)
	}
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the linux binary is dynamically linked")
			}
		}
	}
	version, err := exec.CommandContext(t.Context(), bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m, err := exec.CommandContext(t.Context(), filepath.Join(runtime.GOROOT(), "bin", "go"), "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var modVersion string
	for s := bufio.NewScanner(strings.NewReader(string(m))); s.Scan(); {
		if f := strings.Fields(s.Text()); len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/axiomkit/axiom" {
			modVersion = f[2]
		}
	}
	if modVersion == "" || !strings.Contains(string(version), modVersion) {
		t.Errorf("axiom version says %q; go version -m says the module is %q", version, modVersion)
	}
	// Built from a clone, the binary knows its version and revision.
	if modVersion == "(devel)" || !strings.Contains(string(m), "vcs.revision=") {
		t.Errorf("the binary is not stamped with a version and a revision:\n%s", m)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath=true"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("go version -m lacks %s:\n%s", want, m)
		}
	}
}

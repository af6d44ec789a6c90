package axiom_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// publicPackages are the packages meant to be imported; every other
// library package belongs under internal/ (docs/architecture.md).
var publicPackages = []string{
	"github.com/axiomkit/axiom",
	"github.com/axiomkit/axiom/client",
	"github.com/axiomkit/axiom/client/validate",
	"github.com/axiomkit/axiom/contract",
	"github.com/axiomkit/axiom/gen",
	"github.com/axiomkit/axiom/server",
	"github.com/axiomkit/axiom/server/fault",
	"github.com/axiomkit/axiom/server/servertest",
}

// unplanned returns the importable packages of listing (lines of
// "importpath name") that are neither internal, nor commands, nor public.
func unplanned(listing string) []string {
	var out []string
	for line := range strings.Lines(listing) {
		path, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || name == "main" || strings.Contains(path+"/", "/internal/") || slices.Contains(publicPackages, path) {
			continue
		}
		out = append(out, path)
	}
	return out
}

// TestPublicSurface keeps the importable packages to the planned list.
func TestPublicSurface(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-f", "{{.ImportPath}} {{.Name}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if extra := unplanned(string(out)); len(extra) > 0 {
		t.Errorf("packages importable from outside the module but not meant to be (move them under internal/, or add them to publicPackages and the docs):\n%s", strings.Join(extra, "\n"))
	}
	for _, p := range publicPackages {
		if !strings.Contains(string(out), p+" ") {
			t.Errorf("public package %s is gone: update publicPackages and the docs", p)
		}
	}
	// The check itself sees what it must.
	fake := "github.com/axiomkit/axiom/server/helpers x\ngithub.com/axiomkit/axiom/internal/y y\ngithub.com/axiomkit/axiom/cmd/z main\n"
	if got := unplanned(fake); !slices.Equal(got, []string{"github.com/axiomkit/axiom/server/helpers"}) {
		t.Errorf("unplanned(fake) = %v, want only server/helpers", got)
	}
}

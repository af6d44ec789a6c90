package client_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// heavy are the packages a program that imports only package client must
// not link: the server's framework, the OpenAPI validator and its schema
// compiler, the storage drivers, and the module's server side.
var heavy = []string{
	"github.com/labstack/echo/",
	"github.com/getkin/kin-openapi/",
	"github.com/santhosh-tekuri/jsonschema/",
	"modernc.org/sqlite",
	"github.com/jackc/pgx/",
	"github.com/redis/go-redis/",
	"github.com/axiomkit/axiom/internal/genserver",
	"github.com/axiomkit/axiom/server",
	"github.com/axiomkit/axiom/internal/store/",
}

// heavyDeps lists the packages of program's import graph that are heavy.
func heavyDeps(t *testing.T, program string) (found []string, total int) {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-deps", "./testdata/"+program).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./testdata/%s: %v\n%s", program, err, out)
	}
	deps := strings.Fields(string(out))
	for _, dep := range deps {
		if slices.ContainsFunc(heavy, func(h string) bool { return dep == strings.TrimSuffix(h, "/") || strings.HasPrefix(dep, h) }) {
			found = append(found, dep)
		}
	}
	return found, len(deps)
}

// TestClientOnlyImportGraph builds the graph of a program that imports only
// package client, and of the same program with response validation, which
// must show the check finding kin-openapi.
func TestClientOnlyImportGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	tests := []struct {
		program   string
		wantHeavy []string // prefixes that must be found; none for a light program
	}{
		{program: "minimal"},
		{program: "validated", wantHeavy: []string{"github.com/getkin/kin-openapi/", "github.com/santhosh-tekuri/jsonschema/"}},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			found, total := heavyDeps(t, tt.program)
			t.Logf("%s: %d packages, %d of them heavy", tt.program, total, len(found))
			if tt.wantHeavy == nil && len(found) > 0 {
				t.Errorf("a program importing only package client links:\n%s", strings.Join(found, "\n"))
			}
			for _, want := range tt.wantHeavy {
				if !slices.ContainsFunc(found, func(dep string) bool { return strings.HasPrefix(dep, want) }) {
					t.Errorf("%s: no package under %s found; the check cannot see it", tt.program, want)
				}
			}
			for _, dep := range found {
				if strings.Contains(dep, "echo") || strings.Contains(dep, "sqlite") || strings.Contains(dep, "pgx") {
					t.Errorf("%s links %s", tt.program, dep)
				}
			}
		})
	}
}

package contract_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/axiomkit/axiom/internal/pgtest"
)

// The reference server conforms on PostgreSQL as it does on SQLite:
// `axiom contract` against `axiom serve --db postgres://…` exits 0. Its keys
// are Enterprise ones, so that the suite spends its time checking, not
// pacing itself.
func TestServeBinaryPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the axiom command and runs it")
	}
	db := pgtest.Schema(t)
	bin := buildAxiom(t)
	base, _ := serveBinary(t, bin, db)
	var keys []string
	for range 2 {
		out, err := exec.CommandContext(t.Context(), bin, "keys", "create", "--db", db, "--plan", "enterprise").Output()
		if err != nil {
			t.Fatalf("axiom keys create: %v", err)
		}
		keys = append(keys, strings.TrimSpace(string(out)))
	}
	report, code := runContract(t, bin, "--base-url", base, "--api-key", keys[0], "--second-key", keys[1])
	if code != 0 {
		t.Fatalf("axiom contract exited %d against axiom serve on PostgreSQL:\n%s", code, report)
	}
	if !strings.Contains(report, "PASS: the server conforms") {
		t.Errorf("the report does not say the server conforms:\n%s", report)
	}
}

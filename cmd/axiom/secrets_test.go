package main

import (
	"regexp"
	"strings"
	"testing"
)

// stringFlag matches a flag line of a usage text: "  -db string".
var stringFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+) string$`)

// A password planted in every AXIOM_ variable of a string flag appears in
// no help text and no error of a mistyped flag: flag values come from the
// environment unseen, and the usage names the variables that set them.
func TestEnvironmentValuesAreNeverPrinted(t *testing.T) {
	for _, cmd := range [][]string{
		{"serve"}, {"keys", "create"}, {"keys", "list"}, {"keys", "revoke"}, {"export"}, {"contract"}, {"proxy"},
	} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			_, usage, _ := axiomCmd(t, append(cmd, "-h")...)
			flags := stringFlag.FindAllStringSubmatch(usage, -1)
			if len(flags) == 0 {
				t.Fatalf("no string flag in the usage:\n%s", usage)
			}
			for _, f := range flags {
				t.Setenv(envName(f[1]), "postgres://axiom:Pa55-"+f[1]+"@db.internal/axiom")
			}
			for _, args := range [][]string{append(cmd, "-h"), append(cmd, "--no-such-flag")} {
				stdout, stderr, err := axiomCmd(t, args...)
				out := stdout + stderr
				if err != nil {
					out += err.Error()
				}
				if strings.Contains(out, "Pa55-") {
					t.Errorf("%v printed a value of the environment:\n%s", args, out)
				}
				if want := "[set by " + envName(flags[0][1]) + "]"; !strings.Contains(out, want) {
					t.Errorf("%v does not say %q:\n%s", args, want, out)
				}
			}
		})
	}
}

// A flag's variable still sets it, and the command line wins over it.
func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("AXIOM_LOG_LEVEL", "verbose")
	if _, _, err := axiomCmd(t, "contract", "--api-key", "axm_x"); err == nil || !strings.Contains(err.Error(), "verbose") {
		t.Errorf("AXIOM_LOG_LEVEL=verbose: %v; want the level refused", err)
	}
	t.Setenv("AXIOM_REPORT", "yaml")
	if _, _, err := axiomCmd(t, "contract", "--api-key", "axm_x", "--log-level", "info"); err == nil || !strings.Contains(err.Error(), "report") {
		t.Errorf("AXIOM_REPORT=yaml with --log-level info on the command line: %v; want the report format refused", err)
	}
}

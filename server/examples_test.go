package server_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// The page's code examples (testdata/examples, copied from the page) run
// unchanged against the server but for the base URL and the key. CI sets
// AXIOM_REQUIRE_PAGE_EXAMPLES=1 so that a missing interpreter fails there.
func TestPageExamples(t *testing.T) {
	srv := newServer(t)
	c := apiClient(t, srv, srv.Key)
	created, err := c.CreateLeadWithResponse(context.Background(), nil, gen.LeadCreate{Name: "John Smith", Email: "john.smith@example.com"})
	if err != nil || created.StatusCode() != 201 {
		t.Fatal(err, string(created.Body))
	}
	nodeModules, _ := filepath.Abs("../node_modules")
	for _, tc := range []struct {
		file, interpreter string
		check             []string // a command that fails when the runtime lacks a library
		env               []string
	}{
		{"curl.sh", "sh", []string{"curl", "--version"}, nil},
		{"python.py", "python3", []string{"python3", "-c", "import requests"}, nil},
		{"node.js", "node", []string{"node", "-e", "require('axios')"}, []string{"NODE_PATH=" + nodeModules}},
		{"php.php", "php", []string{"php", "-r", "curl_init();"}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			check := exec.Command(tc.check[0], tc.check[1:]...)
			check.Env = append(os.Environ(), tc.env...)
			if err := check.Run(); err != nil {
				msg := tc.file + ": " + strings.Join(tc.check, " ") + " failed (" + err.Error() + "); install it to run the page's example"
				if os.Getenv("AXIOM_REQUIRE_PAGE_EXAMPLES") != "" {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			src, err := os.ReadFile(filepath.Join("testdata", "examples", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			code := strings.NewReplacer("https://api.axiom-console.com/v1", srv.URL, "your_api_key_here", srv.Key).Replace(string(src))
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(code), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tc.interpreter, path)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			// Only what every language keeps: PHP turns the empty object
			// custom_fields into [] when it re-encodes what it decoded.
			var list struct {
				Data []struct {
					Email string `json:"email"`
				} `json:"data"`
				Length int `json:"length"`
			}
			if err := json.Unmarshal(out, &list); err != nil {
				t.Fatalf("output is not the lead list: %v\n%s", err, out)
			}
			if list.Length != 1 || list.Data[0].Email != "john.smith@example.com" {
				t.Fatalf("leads: %s", out)
			}
		})
	}
}

package contract

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
)

func loadSpec(t *testing.T) (*openapi3.T, map[string]*operation) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(axiom.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := loadOperations(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, ops
}

// TestGeneratedBodies draws, for 60 seeds, a valid body and its invalid
// variants for every operation that takes one: each valid body passes the
// schema, each variant fails it, and every kind of breakage turns up.
func TestGeneratedBodies(t *testing.T) {
	_, ops := loadSpec(t)
	for id, o := range ops {
		s := o.requestSchema()
		if s == nil {
			continue
		}
		t.Run(id, func(t *testing.T) {
			kinds := map[string]bool{}
			for seed := range uint64(60) {
				g := newGenerator(seed+1, "run.axiom-contract.test")
				v, err := g.valid(s)
				if err != nil {
					t.Fatalf("seed %d: %v", seed+1, err)
				}
				for _, m := range g.invalid(s, v, 8) {
					kinds[m.kind] = true
					if validate(s, m.value) == nil {
						t.Fatalf("seed %d: %q passes the schema: %s", seed+1, m.desc, compact(m.value))
					}
				}
			}
			for _, k := range []string{"type", "unknown"} {
				if !kinds[k] {
					t.Errorf("no invalid body of kind %q in 60 seeds (kinds: %v)", k, kinds)
				}
			}
		})
	}
}

func TestGeneratorIsSeeded(t *testing.T) {
	_, ops := loadSpec(t)
	s := ops["createLead"].requestSchema()
	draw := func(seed uint64) []any {
		g := newGenerator(seed, "run.axiom-contract.test")
		var out []any
		for range 5 {
			v, err := g.valid(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return append(out, g.invalid(s, out[0], 5))
	}
	if a, b := draw(7), draw(7); !reflect.DeepEqual(a, b) {
		t.Error("seed 7 drew different values twice")
	}
	if a, b := draw(7), draw(8); reflect.DeepEqual(a, b) {
		t.Error("seeds 7 and 8 drew the same values")
	}
}

// TestGeneratedEmailsAreUnique: a run's emails never collide, even
// compared case-insensitively, so that no valid create is a duplicate.
func TestGeneratedEmailsAreUnique(t *testing.T) {
	g := newGenerator(1, "run.axiom-contract.test")
	seen := map[string]bool{}
	for range 2000 {
		e := strings.ToLower(g.email())
		if seen[e] {
			t.Fatalf("email %s drawn twice", e)
		}
		if err := axiom.CheckEmail(e); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		seen[e] = true
	}
}

func TestFromRegexpMatches(t *testing.T) {
	for _, pattern := range []string{`^cnt_[0-9A-Za-z]{1,32}$`, `^([a-z0-9]+-)+[0-9a-f]{8}$`, `^(\+[1-9][0-9]{6,14})?$`, `^[\x21-\x7E]+$`} {
		s := &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: pattern}
		g := newGenerator(3, "x.test")
		for range 100 {
			v := g.drawString(s)
			if validate(s, v) != nil {
				t.Fatalf("%q does not match %s", v, pattern)
			}
		}
	}
}

func TestCheckOrder(t *testing.T) {
	item := func(id, name, created string) map[string]any {
		return map[string]any{"id": id, "name": name, "created_at": created}
	}
	tests := []struct {
		name  string
		items []map[string]any
		field string
		desc  bool
		ok    bool
	}{
		{"ascending names, case folded", []map[string]any{item("a", "alpha", ""), item("b", "Beta", ""), item("c", "gamma", "")}, "name", false, true},
		{"ASCII case is not an order", []map[string]any{item("a", "Beta", ""), item("b", "alpha", "")}, "name", false, false},
		{"a tie broken by id ascending", []map[string]any{item("a", "Tie", ""), item("b", "tie", "")}, "name", false, true},
		{"a tie broken the wrong way", []map[string]any{item("b", "Tie", ""), item("a", "tie", "")}, "name", false, false},
		{"a tie broken by id descending", []map[string]any{item("b", "Tie", ""), item("a", "tie", "")}, "name", true, true},
		{"times descending", []map[string]any{item("a", "", "2025-01-02T00:00:00Z"), item("b", "", "2025-01-01T23:59:59.5+00:00")}, "created_at", true, true},
		{"times ascending refused when descending", []map[string]any{item("a", "", "2025-01-01T00:00:00Z"), item("b", "", "2025-01-02T00:00:00Z")}, "created_at", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkOrder(tt.items, tt.field, tt.desc, "id"); (err == nil) != tt.ok {
				t.Errorf("checkOrder = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestSlugBase(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"From API", "from-api", true},
		{"  Hello, World!  ", "hello-world", true},
		{"!!!", "template", true},
		{strings.Repeat("ab", 40), strings.Repeat("ab", 32), true},
		{strings.Repeat("a", 63) + " b", strings.Repeat("a", 63), true},
		{"Café", "", false},
	}
	for _, tt := range tests {
		got, ok := slugBase(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("slugBase(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestErrorCodesFromSpec(t *testing.T) {
	codes := errorCodes()
	for status, want := range map[int]string{400: "invalid_parameter", 401: "unauthorized", 404: "not_found", 422: "duplicate_entry", 429: "rate_limit_exceeded", 500: "internal_error"} {
		if !slices.Contains(codes[status], want) {
			t.Errorf("codes[%d] = %v, want it to hold %s", status, codes[status], want)
		}
	}
}

func TestCheckEnvelope(t *testing.T) {
	doc, _ := loadSpec(t)
	schema := doc.Components.Schemas["Error"].Value
	codes := errorCodes()
	env := func(code string) []byte {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": "m", "documentation_url": "https://api.axiom-console.com/docs/errors#" + code}})
		return b
	}
	tests := []struct {
		name   string
		status int
		body   []byte
		ok     bool
	}{
		{"the envelope", 404, env("not_found"), true},
		{"a code of another status", 404, env("unauthorized"), false},
		{"plain text", 404, []byte("Not Found\n"), false},
		{"an extra field", 400, []byte(`{"error":{"code":"invalid_parameter","message":"m","documentation_url":"https://x/#invalid_parameter"},"extra":1}`), false},
		{"an undocumented status with a listed code", 405, env("method_not_allowed"), true},
	}
	for _, tt := range tests {
		if _, err := checkEnvelope(schema, codes, tt.status, http.Header{}, tt.body); (err == nil) != tt.ok {
			t.Errorf("%s: checkEnvelope = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestCurlReproduces runs the reproduction through a shell: quoting must
// survive quotes, dollars and backslashes, and the key must be masked.
func TestCurlReproduces(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	r := &runner{cfg: Config{APIKey: "axm_secret123", Seed: 9}}
	body := []byte(`{"name":"O'Brien $HOME \\ \"x\""}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1/leads/add?q=a%20b", bytes.NewReader(body))
	req.Header["X-API-Key"] = []string{"axm_secret123"}
	req.Header.Set("Content-Type", "application/json")
	c := r.curl(req, body)
	if strings.Contains(c, "secret123") || !strings.Contains(c, "'X-API-Key: axm_****'") {
		t.Fatalf("the key is not masked: %s", c)
	}
	// Replace curl with printf of its arguments to see what the shell passes.
	out, err := exec.Command(sh, "-c", `curl() { for a in "$@"; do printf '%s\n' "$a"; done; }; `+c).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "\n"+string(body)+"\n") {
		t.Errorf("the shell received another body:\n%s", out)
	}
}

func TestReportRenderings(t *testing.T) {
	rep := &Report{
		BaseURL: "http://127.0.0.1:8080/v1", Seed: 5, Tag: "ctag", Requests: 3,
		Results: []Result{
			{Check: NotAServerError, Operation: "listLeads", Outcome: Pass, Runs: 2},
			{Check: DuplicateEmailRejected, Operation: "createLead", Outcome: Fail, Runs: 2, FailureCount: 1,
				Failures: []Failure{{Scenario: "create a second lead", Message: "a duplicate email answered 201", Status: 201, Curl: "curl -i 'http://x' -H 'X-API-Key: axm_****'"}}},
			{Check: RateLimitEnforced, Outcome: Skip, SkipReason: "not asked"},
		},
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL    duplicate_email_rejected", "reproduce:", "X-API-Key: axm_****", "--seed 5", "1 passed, 1 failed, 1 skipped", "FAIL: the server does not conform"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(back.Results, rep.Results) {
		t.Errorf("the JSON report does not read back: %v", err)
	}
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 {
		t.Errorf("JUnit counts: tests %d, failures %d, skipped %d; want 3, 1, 1", doc.Tests, doc.Failures, doc.Skipped)
	}
	if rep.OK() || !slices.Equal(rep.FailedChecks(), []string{DuplicateEmailRejected}) {
		t.Errorf("OK = %v, FailedChecks = %v", rep.OK(), rep.FailedChecks())
	}
}

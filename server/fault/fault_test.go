package fault_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/fault"
)

var loadSpec = sync.OnceValues(server.LoadSpec)

func newSet(t *testing.T, rules ...fault.Rule) *fault.Set {
	t.Helper()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	s := fault.NewSet(doc)
	if _, err := s.Replace(rules); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseFlag(t *testing.T) {
	tests := []struct {
		in   string
		want fault.Rule
		err  string
	}{
		{"operation=listLeads,status=503,retry_after=2,times=3",
			fault.Rule{Operation: "listLeads", Status: 503, RetryAfter: 2, Times: 3}, ""},
		{"path=/v1/leads/*,method=get,latency=250ms,close=true,fraction=0.5",
			fault.Rule{Path: "/v1/leads/*", Method: "get", Latency: 250 * time.Millisecond, Close: true, Fraction: 0.5}, ""},
		{"message=Down: back soon, really,status=503", fault.Rule{}, "not field=value"},
		{"colour=red", fault.Rule{}, "colour"},
		{"status=soon", fault.Rule{}, "status"},
	}
	for _, tt := range tests {
		got, err := fault.ParseFlag(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseFlag(%q) = %v; want an error about %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFlag(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	for _, text := range []string{
		"- {operation: listLeads, status: 429}\n- {latency: 2s}\n",
		"rules:\n  - {operation: listLeads, status: 429}\n  - {latency: 2s}\n",
		`{"rules": [{"operation": "listLeads", "status": 429}, {"latency": "2s"}]}`,
	} {
		rules, err := fault.Parse("faults.yaml", []byte(text))
		if err != nil || len(rules) != 2 || rules[0].Status != 429 || rules[1].Latency != 2*time.Second {
			t.Errorf("Parse(%q) = %+v, %v", text, rules, err)
		}
	}
	if _, err := fault.Parse("faults.yaml", []byte("- status: 429\n  colour: red\n")); err == nil || !strings.Contains(err.Error(), "faults.yaml") ||
		!strings.Contains(err.Error(), "line 2") {
		t.Errorf("an unknown field: %v; want the file and line", err)
	}
}

// A rule's defaults are the API's own answer to its status.
func TestDefaults(t *testing.T) {
	s := newSet(t, fault.Rule{Status: 429}, fault.Rule{Status: 503}, fault.Rule{Status: 409, Operation: "createLead"})
	st := s.States()
	for i, want := range []struct {
		name       string
		code       axiom.ErrorCode
		retryAfter int
		message    string
	}{
		{"fault-1", axiom.CodeRateLimitExceeded, 1, "Rate limit exceeded; retry after 1 second"},
		{"fault-2", axiom.CodeServiceUnavailable, 0, "The service is unavailable; retry later"},
		{"fault-3", axiom.CodeIdempotencyKeyInUse, 1, "A request with this Idempotency-Key is still running; retry after 1 second"},
	} {
		r := st[i].Rule
		if r.Name != want.name || r.Code != want.code || r.RetryAfter != want.retryAfter || r.Message != want.message || r.Fraction != 1 {
			t.Errorf("rule %d = %+v; want %+v", i, r, want)
		}
	}
}

func TestMatch(t *testing.T) {
	secret := "axm_" + strings.Repeat("k", 40)
	s := newSet(t,
		fault.Rule{Name: "mine", Key: secret, Operation: "listLeads", Status: 500, Times: 2},
		fault.Rule{Name: "quarter", Method: "GET", Path: "/v1/templates*", Fraction: 0.25, Status: 503},
		fault.Rule{Name: "conflict", Status: 409}, // documented only on the POSTs that take a key
	)
	list := fault.Request{Operation: "ListLeads", Method: "GET", Path: "/v1/leads", KeyHash: axiom.HashSecret(secret)}
	var got []string
	for range 3 {
		f, ok := s.Match(list)
		got = append(got, f.Rule+":"+map[bool]string{true: "y", false: "n"}[ok])
	}
	if strings.Join(got, " ") != "mine:y mine:y :n" {
		t.Errorf("a rule of two times: %v", got)
	}
	other := list
	other.KeyHash = axiom.HashSecret("another")
	if _, ok := newSet(t, fault.Rule{Key: secret, Status: 500}).Match(other); ok {
		t.Error("a rule of one key faulted another's request")
	}
	faulted := 0
	for range 12 {
		if f, ok := s.Match(fault.Request{Operation: "listTemplates", Method: "GET", Path: "/v1/templates"}); ok && f.Rule == "quarter" {
			faulted++
		}
	}
	if faulted != 3 {
		t.Errorf("fraction 0.25 faulted %d of 12; want 3", faulted)
	}
	if f, ok := s.Match(fault.Request{Operation: "getLead", Method: "DELETE", Path: "/v1/leads/cnt_1"}); ok {
		t.Errorf("a 409 was injected where it is not documented: %+v", f)
	}
	if f, ok := s.Match(fault.Request{Operation: "createLead", Method: "POST", Path: "/v1/leads/add"}); !ok || f.Status != 409 {
		t.Errorf("a 409 on createLead: %+v, %v", f, ok)
	}
}

// The admin endpoint's JSON: latency as a duration, the key never shown.
func TestJSON(t *testing.T) {
	var r fault.Rule
	if err := json.Unmarshal([]byte(`{"name":"x","latency":"1.5s","key":"axm_secretsecretsecret","status":500}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Latency != 1500*time.Millisecond {
		t.Errorf("latency %v", r.Latency)
	}
	st, err := newSet(t).Add(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if s := string(b); strings.Contains(s, "axm_secretsecretsecret") || !strings.Contains(s, `"latency":"1.5s"`) || !strings.Contains(s, `"key_hint":"axm_secr"`) {
		t.Errorf("state JSON %s", s)
	}
	if err := json.Unmarshal([]byte(`{"latency":"soon"}`), &r); err == nil {
		t.Error("a latency that is no duration was read")
	}
}

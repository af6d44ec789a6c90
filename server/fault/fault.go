// Package fault makes the reference server misbehave on purpose, so that
// a client's handling of each documented failure can be tested against a
// real server: a Rule picks API requests (by operation, method, path, key,
// a fraction of them, the first few) and answers them with an error
// status, a delay, or a connection closed half-way through the answer.
//
// A Set holds the rules in force; the server's pipeline asks it about each
// authenticated request (server.Config.Faults). Rules come from a file or
// flags of `axiom serve`, the admin endpoint, or servertest.WithFaults.
// admin.openapi.yaml (FaultRule) documents them.
package fault

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/axiomkit/axiom"
)

// Rule picks requests and says what happens to them. Every filter set must
// hold for a request to match; of the matching requests, Fraction fault
// (spread evenly), only the first Times if set. At least one of Status,
// Latency and Close must be set.
type Rule struct {
	// Name names the rule in the admin endpoint and the logs; "fault-N" by
	// default.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`

	// Operation is an operationId of openapi.yaml ("listLeads").
	Operation string `json:"operation,omitempty" yaml:"operation,omitempty"`
	// Method is an HTTP method ("GET").
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Path is a path.Match pattern of the request's path ("/v1/leads/*").
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
	// Key is an API key's secret; KeyID a key's id.
	Key   string `json:"key,omitempty" yaml:"key,omitempty"`
	KeyID string `json:"key_id,omitempty" yaml:"key_id,omitempty"`
	// Fraction of the matching requests fault, in (0, 1]; 0 means 1.
	Fraction float64 `json:"fraction,omitempty" yaml:"fraction,omitempty"`
	// Times, when set, faults only the first Times matching requests.
	Times int `json:"times,omitempty" yaml:"times,omitempty"`

	// Latency delays the request before it is answered.
	Latency time.Duration `json:"-" yaml:"latency,omitempty"`
	// Status answers the request with this status and the API's error
	// envelope, of Code (by default the one the API gives the status) and
	// Message (by default the API's own for it).
	Status  int             `json:"status,omitempty" yaml:"status,omitempty"`
	Code    axiom.ErrorCode `json:"code,omitempty" yaml:"code,omitempty"`
	Message string          `json:"message,omitempty" yaml:"message,omitempty"`
	// RetryAfter is the Retry-After of a 409, 429 or 503, in seconds; 409
	// and 429 always carry one (1 by default).
	RetryAfter int `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// Close sends the headers and half the body of the answer, then
	// closes the connection.
	Close bool `json:"close,omitempty" yaml:"close,omitempty"`
}

// ruleJSON is Rule with its latency as a Go duration string, as the admin
// endpoint writes it.
type ruleJSON struct {
	ruleFields
	Latency string `json:"latency,omitempty"`
}

type ruleFields Rule

// MarshalJSON writes the latency as a duration: "250ms".
func (r Rule) MarshalJSON() ([]byte, error) {
	out := ruleJSON{ruleFields: ruleFields(r)}
	if r.Latency > 0 {
		out.Latency = r.Latency.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a rule, its latency as a duration.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var in ruleJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*r = Rule(in.ruleFields)
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil {
			return axiom.Errorf(axiom.CodeInvalidParameter, "latency %q is not a duration such as 250ms", clip(in.Latency))
		}
		r.Latency = d
	}
	return nil
}

// MaxLatency bounds a rule's delay: longer waits only hold connections.
const MaxLatency = 5 * time.Minute

// statuses are those a rule may answer: the API's error statuses.
var statuses = []int{400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503}

// messages are the API's own messages for the statuses whose answer a
// rule's defaults imitate.
func defaultMessage(status, retryAfter int) string {
	switch status {
	case 429:
		return fmt.Sprintf("Rate limit exceeded; retry after %s", seconds(retryAfter))
	case 409:
		return fmt.Sprintf("A request with this Idempotency-Key is still running; retry after %s", seconds(retryAfter))
	case 503:
		if retryAfter > 0 {
			return fmt.Sprintf("The service is unavailable; retry after %s", seconds(retryAfter))
		}
		return "The service is unavailable; retry later"
	case 500:
		return "An internal error occurred"
	}
	return "The request failed (an injected fault)"
}

func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// check returns r with its defaults set, or the invalid_parameter error
// that says what is wrong with it. ops are the operations of the API and
// the statuses each documents.
func (r Rule) check(ops map[string][]int) (Rule, error) {
	bad := func(format string, args ...any) (Rule, error) {
		return r, axiom.Errorf(axiom.CodeInvalidParameter, "fault rule '%s': "+format, append([]any{clip(r.Name)}, args...)...)
	}
	if r.Name != "" && !namePattern.MatchString(r.Name) {
		return bad("the name must be 1 to 64 letters, digits, '_', '.' or '-'")
	}
	if r.Status == 0 && r.Latency == 0 && !r.Close {
		return bad("set status, latency or close: the rule does nothing")
	}
	if r.Operation != "" {
		if _, ok := ops[opKey(r.Operation)]; !ok {
			return bad("no operation of the API is named '%s'", clip(r.Operation))
		}
	}
	r.Method = strings.ToUpper(r.Method)
	if r.Method != "" && !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, r.Method) {
		return bad("method '%s' is not one the API has", clip(r.Method))
	}
	if r.Path != "" {
		if _, err := path.Match(r.Path, "/"); err != nil || len(r.Path) > 512 {
			return bad("path '%s' is not a pattern path.Match reads", clip(r.Path))
		}
	}
	if r.KeyID != "" && !axiom.ValidID(axiom.PrefixKey, r.KeyID) {
		return bad("key_id '%s' is not a key id", clip(r.KeyID))
	}
	if r.Fraction == 0 {
		r.Fraction = 1
	}
	if !(r.Fraction > 0 && r.Fraction <= 1) {
		return bad("fraction must be above 0 and at most 1")
	}
	if r.Times < 0 {
		return bad("times must be at least 1")
	}
	if r.Latency < 0 || r.Latency > MaxLatency {
		return bad("latency must be between 0 and %s", MaxLatency)
	}
	if r.Status == 0 {
		if r.Code != "" || r.Message != "" || r.RetryAfter != 0 {
			return bad("code, message and retry_after go with a status")
		}
		return r, nil
	}
	if !slices.Contains(statuses, r.Status) {
		return bad("status %d is not an error status of the API: want one of %s", r.Status, list(statuses))
	}
	if r.Operation != "" && !slices.Contains(ops[opKey(r.Operation)], r.Status) {
		return bad("%s does not document status %d: its answers would break the contract", r.Operation, r.Status)
	}
	if r.Code == "" {
		r.Code = axiom.CodeForStatus(r.Status)
		if r.Status == 409 {
			r.Code = axiom.CodeIdempotencyKeyInUse
		}
		if r.Code == "" {
			return bad("status %d has several codes: set code", r.Status)
		}
	}
	if !r.Code.Known() || r.Code.Status() != r.Status {
		return bad("code '%s' is not one the API answers with status %d", clip(string(r.Code)), r.Status)
	}
	switch r.Status {
	case 409, 429:
		if r.RetryAfter == 0 {
			r.RetryAfter = 1
		}
	case 503:
	default:
		if r.RetryAfter != 0 {
			return bad("retry_after goes with status 409, 429 or 503")
		}
	}
	if r.RetryAfter < 0 || r.RetryAfter > 86400 {
		return bad("retry_after must be 1 to 86400 seconds")
	}
	if r.Message == "" {
		r.Message = defaultMessage(r.Status, r.RetryAfter)
	}
	if len(r.Message) > 500 {
		return bad("the message must be at most 500 bytes")
	}
	return r, nil
}

func list(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// clip keeps a value quoted in a message short.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// State is a rule in force and what it did.
type State struct {
	// Rule is the rule with its defaults set, but for its Key, which is
	// never shown back: KeyHint is the start of it.
	Rule    Rule   `json:"rule"`
	KeyHint string `json:"key_hint,omitempty"`
	// Matched counts the requests the rule matched, Faulted those it faulted.
	Matched int64 `json:"matched"`
	Faulted int64 `json:"faulted"`
}

// active is a rule in force.
type active struct {
	Rule
	keyHash []byte
	matched atomic.Int64
	faulted atomic.Int64
}

// Request is what a rule can match of a request.
type Request struct {
	Operation    string // operationId; "" outside the API's operations
	Method, Path string
	KeyHash      []byte // SHA-256 of the request's key
	KeyID        string
}

// Fault is what to do to one request.
type Fault struct {
	Rule       string // the rule's name
	Latency    time.Duration
	Status     int // 0: answer as usual
	Code       axiom.ErrorCode
	Message    string
	RetryAfter int // seconds; 0: no Retry-After
	Close      bool
}

// Set is the rules in force, safe for concurrent use. The zero value is
// not ready: use NewSet.
type Set struct {
	ops   map[string][]int // operationId → the statuses it documents
	mu    sync.Mutex
	rules []*active
	n     atomic.Int32 // len(rules), read without the lock
	seq   int          // the last default name's number
}

// NewSet returns an empty set for the API doc describes (server.LoadSpec).
func NewSet(doc *openapi3.T) *Set {
	s := &Set{ops: map[string][]int{}}
	if doc != nil && doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				var codes []int
				if op.Responses != nil {
					for code := range op.Responses.Map() {
						if n, err := strconv.Atoi(code); err == nil {
							codes = append(codes, n)
						}
					}
				}
				s.ops[opKey(op.OperationID)] = codes
			}
		}
	}
	return s
}

// Replace puts rules in force instead of those there were, all or none.
func (s *Set) Replace(rules []Rule) ([]State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.seq
	list, err := s.compile(rules, nil, &seq)
	if err != nil {
		return nil, err
	}
	s.seq = seq
	s.set(list)
	return s.states(), nil
}

// Add puts r in force after the rules there are.
func (s *Set) Add(r Rule) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.seq
	list, err := s.compile([]Rule{r}, s.rules, &seq)
	if err != nil {
		return State{}, err
	}
	s.seq = seq
	s.set(append(slices.Clone(s.rules), list...))
	return stateOf(list[0]), nil
}

// compile checks rules and names those without a name, refusing a name
// used twice among them and those kept.
func (s *Set) compile(rules []Rule, kept []*active, seq *int) ([]*active, error) {
	names := map[string]bool{}
	for _, a := range kept {
		names[a.Name] = true
	}
	out := make([]*active, 0, len(rules))
	for _, r := range rules {
		r, err := r.check(s.ops)
		if err != nil {
			return nil, err
		}
		for r.Name == "" {
			*seq++
			if name := "fault-" + strconv.Itoa(*seq); !names[name] {
				r.Name = name
			}
		}
		if names[r.Name] {
			return nil, axiom.Errorf(axiom.CodeInvalidParameter, "fault rule '%s': the name is used twice", r.Name)
		}
		names[r.Name] = true
		a := &active{Rule: r}
		if r.Key != "" {
			a.keyHash = axiom.HashSecret(r.Key)
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *Set) set(list []*active) {
	s.rules = list
	s.n.Store(int32(len(list)))
}

// Delete removes the rule named name, and reports whether there was one.
func (s *Set) Delete(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.rules, func(a *active) bool { return a.Name == name })
	if i < 0 {
		return false
	}
	s.set(slices.Delete(slices.Clone(s.rules), i, i+1))
	return true
}

// Clear removes every rule.
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(nil)
}

// States lists the rules in force, in the order they are tried.
func (s *Set) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states()
}

func (s *Set) states() []State {
	out := make([]State, len(s.rules))
	for i, a := range s.rules {
		out[i] = stateOf(a)
	}
	return out
}

func stateOf(a *active) State {
	st := State{Rule: a.Rule, Matched: a.matched.Load(), Faulted: a.faulted.Load()}
	if k := st.Rule.Key; k != "" {
		st.KeyHint = k[:min(len(k), len(axiom.KeyPrefix)+4)]
		st.Rule.Key = ""
	}
	return st
}

// Match returns the fault for r, if a rule faults it: the first rule that
// matches r, documents its status for r's operation, is not spent and
// takes r in its fraction.
func (s *Set) Match(r Request) (Fault, bool) {
	if s == nil || s.n.Load() == 0 {
		return Fault{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.rules {
		if !a.matches(r) || (a.Status != 0 && !slices.Contains(s.ops[opKey(r.Operation)], a.Status)) {
			continue
		}
		n := a.matched.Add(1)
		if a.Times > 0 && a.faulted.Load() >= int64(a.Times) {
			continue
		}
		// The n-th match faults when it brings floor(n × fraction) up: an
		// even spread, the same in every run.
		if math.Floor(float64(n)*a.Fraction) == math.Floor(float64(n-1)*a.Fraction) {
			continue
		}
		a.faulted.Add(1)
		return Fault{Rule: a.Name, Latency: a.Latency, Status: a.Status, Code: a.Code, Message: a.Message,
			RetryAfter: a.RetryAfter, Close: a.Close}, true
	}
	return Fault{}, false
}

func (a *active) matches(r Request) bool {
	if a.Operation != "" && !strings.EqualFold(a.Operation, r.Operation) || a.Method != "" && a.Method != r.Method ||
		a.KeyID != "" && a.KeyID != r.KeyID {
		return false
	}
	if a.keyHash != nil && subtle.ConstantTimeCompare(a.keyHash, r.KeyHash) != 1 {
		return false
	}
	if a.Path != "" {
		if ok, _ := path.Match(a.Path, r.Path); !ok {
			return false
		}
	}
	return true
}

// opKey is the form operation names are compared in: the server's
// embedded spec capitalizes the operationIds openapi.yaml writes
// ("listLeads" and "ListLeads" are one operation).
func opKey(id string) string { return strings.ToLower(id) }

// rulesFile is a file of rules: a list, or an object with one.
type rulesFile struct {
	Rules []Rule `yaml:"rules"`
}

// ReadFile reads rules from a YAML or JSON file: a list of rules, or an
// object whose "rules" is one.
func ReadFile(name string) ([]Rule, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// Parse reads rules from YAML or JSON text; name is the file's in errors.
func Parse(name string, data []byte) ([]Rule, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f rulesFile
	into := any(&f)
	if len(root.Content) > 0 && root.Content[0].Kind == yaml.SequenceNode {
		into = &f.Rules
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f.Rules, nil
}

// ParseFlag reads a rule written as comma-separated field=value pairs, the
// fields named as in a file: "operation=listLeads,status=503,retry_after=2".
func ParseFlag(s string) (Rule, error) {
	var b strings.Builder
	b.WriteString("{")
	for i, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return Rule{}, fmt.Errorf("%q is not field=value", pair)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		// Values are quoted as YAML reads them, then typed by the field.
		fmt.Fprintf(&b, "%s: %s", strings.TrimSpace(k), yamlScalar(strings.TrimSpace(v)))
	}
	b.WriteString("}")
	var r Rule
	dec := yaml.NewDecoder(strings.NewReader(b.String()))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return Rule{}, fmt.Errorf("%q: %w", s, err)
	}
	return r, nil
}

// yamlScalar is v as a YAML plain scalar where that reads the same, else
// double-quoted.
func yamlScalar(v string) string {
	if v != "" && !strings.ContainsAny(v, ":{}[],&*#?|<>=!%@`'\"") {
		return v
	}
	return strconv.Quote(v)
}

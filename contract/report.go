package contract

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Outcome is the verdict of one check on one operation.
type Outcome string

const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Skip Outcome = "skip"
)

// maxFailures is how many failures of one check on one operation a report
// keeps in full; the others are only counted.
const maxFailures = 5

// Failure is one failed evaluation of a check.
type Failure struct {
	// Scenario says what the suite was doing.
	Scenario string `json:"scenario"`
	Message  string `json:"message"`
	// Status is the response's status, 0 when there was no response.
	Status int `json:"status,omitempty"`
	// Curl reproduces the request, with the API key masked.
	Curl string `json:"curl,omitempty"`
}

// Result is one check on one operation ("" for checks of the whole API).
type Result struct {
	Check     string  `json:"check"`
	Operation string  `json:"operation,omitempty"`
	Outcome   Outcome `json:"outcome"`
	// Runs counts the evaluations, passed and failed.
	Runs int `json:"runs"`
	// FailureCount counts the failed ones; Failures keeps the first few.
	FailureCount int       `json:"failure_count,omitempty"`
	Failures     []Failure `json:"failures,omitempty"`
	// SkipReason says why a skipped check did not run.
	SkipReason string `json:"skip_reason,omitempty"`
}

// Report is the outcome of a contract run.
type Report struct {
	BaseURL        string        `json:"base_url"`
	Seed           uint64        `json:"seed"`
	Tag            string        `json:"tag"`
	DocumentedOnly bool          `json:"documented_only"`
	SpendQuota     bool          `json:"spend_quota"`
	Started        time.Time     `json:"started"`
	Duration       time.Duration `json:"duration_ns"`
	Requests       int           `json:"requests"`
	// Throttled counts the 429s the suite met without asking for them;
	// it paces itself so that this stays 0.
	Throttled int      `json:"throttled"`
	Results   []Result `json:"results"`
	// LeftBehind lists what the suite created but could not delete (with
	// DocumentedOnly, the API documents no delete).
	LeftBehind []string `json:"left_behind,omitempty"`
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, res := range r.Results {
		if res.Outcome == Fail {
			return false
		}
	}
	return true
}

// FailedChecks lists the names of the checks that failed, in catalogue order.
func (r *Report) FailedChecks() []string {
	var names []string
	for _, res := range r.Results {
		if res.Outcome == Fail && !slices.Contains(names, res.Check) {
			names = append(names, res.Check)
		}
	}
	return names
}

// Check returns the results of one check, one per operation.
func (r *Report) Check(name string) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Check == name {
			out = append(out, res)
		}
	}
	return out
}

// summary aggregates a check's results over its operations.
type summary struct {
	name     string
	outcome  Outcome
	runs     int
	failures int
	failedOn []string
	skip     string
}

func (r *Report) summaries() []summary {
	var out []summary
	index := map[string]int{}
	for _, res := range r.Results {
		i, ok := index[res.Check]
		if !ok {
			i = len(out)
			index[res.Check] = i
			out = append(out, summary{name: res.Check, outcome: Skip})
		}
		s := &out[i]
		s.runs += res.Runs
		s.failures += res.FailureCount
		switch res.Outcome {
		case Fail:
			s.outcome = Fail
			s.failedOn = append(s.failedOn, cmp(res.Operation, "(API)"))
		case Pass:
			if s.outcome == Skip {
				s.outcome = Pass
			}
		case Skip:
			if s.skip == "" {
				s.skip = res.SkipReason
			}
		}
	}
	return out
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteText writes the report for a person: each check and its result, then
// every failure kept with the curl command that reproduces it.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Axiom API contract run against %s\n", r.BaseURL)
	fmt.Fprintf(ew, "seed %d (replay with --seed %d), run tag %s, %d requests in %s, throttled %d times\n",
		r.Seed, r.Seed, r.Tag, r.Requests, r.Duration.Round(time.Millisecond), r.Throttled)
	var scope []string
	if r.DocumentedOnly {
		scope = append(scope, "documented operations only")
	}
	if r.SpendQuota {
		scope = append(scope, "spending the rate-limit quota")
	}
	if len(scope) > 0 {
		fmt.Fprintf(ew, "(%s)\n", strings.Join(scope, ", "))
	}
	fmt.Fprintln(ew)

	sums := r.summaries()
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCHECK\tRUNS\tDETAIL")
	var passed, failed, skipped int
	for _, s := range sums {
		detail := ""
		switch s.outcome {
		case Pass:
			passed++
		case Fail:
			failed++
			detail = fmt.Sprintf("%d failed, on %s", s.failures, strings.Join(s.failedOn, ", "))
		case Skip:
			skipped++
			detail = s.skip
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", strings.ToUpper(string(s.outcome)), s.name, s.runs, detail)
	}
	tw.Flush()

	n := 0
	for _, res := range r.Results {
		if res.Outcome != Fail {
			continue
		}
		if n == 0 {
			fmt.Fprintf(ew, "\nFAILURES\n")
		}
		for _, f := range res.Failures {
			n++
			fmt.Fprintf(ew, "\n%d) %s", n, res.Check)
			if res.Operation != "" {
				fmt.Fprintf(ew, " on %s", res.Operation)
			}
			fmt.Fprintf(ew, "\n   while: %s\n", f.Scenario)
			if f.Status != 0 {
				fmt.Fprintf(ew, "   status: %d\n", f.Status)
			}
			fmt.Fprintf(ew, "   %s\n", indent(f.Message, "   "))
			if f.Curl != "" {
				fmt.Fprintf(ew, "   reproduce:\n     %s\n", f.Curl)
			}
		}
		if more := res.FailureCount - len(res.Failures); more > 0 {
			fmt.Fprintf(ew, "\n   … and %d more failures of %s on %s\n", more, res.Check, cmp(res.Operation, "(API)"))
		}
	}
	if len(r.LeftBehind) > 0 {
		fmt.Fprintf(ew, "\nLeft behind (tagged with the run's email domain %s.axiom-contract.test where they have an email): %s\n",
			r.Tag, strings.Join(r.LeftBehind, ", "))
	}
	verdict := "PASS: the server conforms to the contract"
	if failed > 0 {
		verdict = "FAIL: the server does not conform to the contract"
	}
	fmt.Fprintf(ew, "\n%d checks: %d passed, %d failed, %d skipped\n%s\n", len(sums), passed, failed, skipped, verdict)
	return ew.err
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML, one test case per check and
// operation, for CI systems that display it.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{
		Name: "axiom contract", Time: fmt.Sprintf("%.3f", r.Duration.Seconds()),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"base_url", r.BaseURL}, {"seed", fmt.Sprint(r.Seed)}, {"tag", r.Tag},
			{"documented_only", fmt.Sprint(r.DocumentedOnly)}, {"spend_quota", fmt.Sprint(r.SpendQuota)},
		},
	}
	for _, res := range r.Results {
		c := junitCase{Classname: res.Check, Name: cmp(res.Operation, "API")}
		switch res.Outcome {
		case Fail:
			s.Failures++
			var b strings.Builder
			for _, f := range res.Failures {
				fmt.Fprintf(&b, "while: %s\n%s\n", f.Scenario, f.Message)
				if f.Curl != "" {
					fmt.Fprintf(&b, "reproduce: %s\n", f.Curl)
				}
				b.WriteString("\n")
			}
			c.Failure = &junitMessage{Message: fmt.Sprintf("%d of %d runs failed", res.FailureCount, res.Runs), Text: b.String()}
		case Skip:
			s.Skipped++
			c.Skipped = &junitMessage{Message: res.SkipReason}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: s.Name, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// errWriter keeps the first write error, so that rendering code can ignore them.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

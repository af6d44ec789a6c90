package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/axiomkit/axiom/cmd/axiom-bench/internal/load"
)

// measured is one run: what the load generator saw, and the CPU time the
// server spent per request meanwhile.
type measured struct {
	load.Result
	cpu time.Duration
}

// report gathers the rounds' results and writes them as Markdown.
type report struct {
	backend    string // sqlite or postgres
	about      string // the store's settings
	skipped    string // why the backend was not run, if it was not
	opts       options
	scenarios  []scenario
	targets    []*target             // the bare handler, the floor, then axiom serve, validation off first
	results    map[string][]measured // by scenario and target slug, one per round
	loadBefore string
	loadAfter  string
}

func key(s scenario, t *target) string { return s.name + "/" + t.slug }

func (r *report) add(s scenario, t *target, m measured) {
	r.results[key(s, t)] = append(r.results[key(s, t)], m)
}

// row is the medians of one server's rounds on one request.
type row struct {
	rate       float64
	p50, p99   time.Duration
	cpu        time.Duration
	bare, off  float64 // medians of the rounds' ratios of req/s
	floor      float64
	failed     int64
	firstError string
}

// ratio is the median of the per-round ratios of runs to base: rounds are
// side by side in time, so a ratio within a round is less disturbed by the
// machine's drifting load than a ratio of medians.
func ratio(runs, base []measured) float64 {
	var rs []float64
	for i, m := range runs {
		if i < len(base) && base[i].Rate() > 0 {
			rs = append(rs, m.Rate()/base[i].Rate())
		}
	}
	return median(rs)
}

func (r *report) row(s scenario, t *target) row {
	runs := r.results[key(s, t)]
	var rates []float64
	var p50s, p99s, cpus []time.Duration
	var out row
	for _, m := range runs {
		rates = append(rates, m.Rate())
		p50s = append(p50s, m.P50)
		p99s = append(p99s, m.P99)
		cpus = append(cpus, m.cpu)
		out.failed += m.Failed
		if out.firstError == "" {
			out.firstError = m.FirstFailure
		}
	}
	out.rate, out.p50, out.p99, out.cpu = median(rates), median(p50s), median(p99s), median(cpus)
	out.bare = ratio(runs, r.results[s.name+"/bare"])
	out.floor = ratio(runs, r.results[s.name+"/floor"])
	out.off = ratio(runs, r.results[s.name+"/off"])
	return out
}

// backendTitles head each backend's table.
var backendTitles = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "#### %s\n\n", backendTitles[r.backend])
	if r.skipped != "" {
		fmt.Fprintf(w, "Skipped: %s.\n\n", r.skipped)
		return
	}
	o := r.opts
	fmt.Fprintf(w, "Store: %s.\n\n", r.about)
	fmt.Fprintf(w, "Machine: %d CPUs, %s, %s/%s, %s. Load average (1, 5, 15 min) before %s, after %s.\n\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "Each figure is the median of %d rounds of %s (at most %d requests) over %d keep-alive connections on loopback, "+
		"the servers taking turns in a rotating order; × bare, × floor and × off are medians of the rounds' ratios of req/s. "+
		"CPU/req is the server process's CPU time (all threads) per request. The listed account holds %d leads; "+
		"axiom serve runs with --rate-limit off and --log-level %s.\n\n",
		o.rounds, o.duration, o.requests, o.concurrency, o.leads, o.logLevel)
	fmt.Fprintln(w, "| Request | Server | req/s | p50 | p99 | CPU/req | × bare | × floor | × off |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	var failed int64
	var failures []string
	for _, s := range r.scenarios {
		for _, t := range r.targets {
			x := r.row(s, t)
			failed += x.failed
			floor, off := "—", "—"
			if t.slug != "bare" {
				floor = fmt.Sprintf("%.2f", x.floor)
			}
			if t.flags != nil {
				off = fmt.Sprintf("%.2f", x.off)
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %.2f | %s | %s |\n",
				s.label, t.name, thousands(x.rate), ms(x.p50), ms(x.p99), us(x.cpu), x.bare, floor, off)
			if x.failed > 0 {
				failures = append(failures, fmt.Sprintf("- `%s` on %s: %d failed, the first: %s", s.label, t.name, x.failed, x.firstError))
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(w, "\n%d requests failed; they are not counted in req/s:\n\n", failed)
		for _, f := range failures {
			fmt.Fprintln(w, f)
		}
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}

// thousands formats a rate as 12,345.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

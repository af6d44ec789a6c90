// Command axiom-bench measures the reference server's throughput on
// loopback, side by side with a bare Echo handler sending the same bytes and
// a same-work floor doing the same SQL with encoding/json, on SQLite and on
// PostgreSQL.
//
//	go run ./cmd/axiom-bench [-duration 3s] [-rounds 3] [-concurrency 8] [-leads 10000] [-postgres URL] [-redis URL]
//
// It builds `axiom`, and for each backend (-backends) seeds a database with
// an account of -leads leads (a SQLite file; a schema of its own on the
// PostgreSQL server -postgres names, dropped afterwards) and starts five
// servers, each a process of its own: the bare handler, the floor
// (`axiom-bench floor`, on a copy of the SQLite file or on the schema), and
// `axiom serve --rate-limit off` with validation off, with request
// validation only, and with request and response validation. It checks that
// the floor answers the list and the search as axiom does, then drives
// GET /v1/leads?limit=20, POST /v1/leads/add and GET /v1/leads?search=… on
// each in turn, for -rounds rounds in rotating order, and prints a Markdown
// table per backend of the medians and of the ratios to the bare handler and
// the floor. Without a PostgreSQL URL the PostgreSQL table says it was
// skipped.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/axiomkit/axiom/cmd/axiom-bench/internal/load"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "bare" || os.Args[1] == "floor") {
		sub := map[string]func([]string) error{"bare": bareMain, "floor": floorMain}[os.Args[1]]
		if err := sub(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "axiom-bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "axiom-bench:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	axiom       string
	leads       int
	duration    time.Duration
	warmup      time.Duration
	requests    int64
	concurrency int
	rounds      int
	scenarios   string
	logLevel    string
	dir         string
	dbDir       string
	out         string
	backends    string
	postgres    string
	redis       string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("axiom-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.axiom, "axiom", "", "the axiom binary to run; empty builds ./cmd/axiom")
	fs.IntVar(&o.leads, "leads", 10000, "leads in the listed account")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "length of one measured run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "length of the unmeasured run before the first of each server and request")
	fs.Int64Var(&o.requests, "requests", 200000, "most requests in one run")
	fs.IntVar(&o.concurrency, "concurrency", 8, "connections, each with one request in flight")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; every figure is the median of the rounds")
	fs.StringVar(&o.scenarios, "scenarios", "list,add,search", "requests to drive: list, add, search")
	fs.StringVar(&o.logLevel, "log-level", "info", "--log-level of axiom serve (info logs every request, as deployed)")
	fs.StringVar(&o.dir, "dir", "", "working directory, kept afterwards; empty uses a temporary one")
	fs.StringVar(&o.dbDir, "db-dir", "", "where the servers' databases live; empty means the working directory")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.StringVar(&o.backends, "backends", "sqlite,postgres", "stores to run on, each with its own table: sqlite, postgres (skipped without a PostgreSQL URL)")
	fs.StringVar(&o.postgres, "postgres", os.Getenv(envPostgres), "PostgreSQL server to run on, postgres://…; the run creates a schema of its own there and drops it (default $"+envPostgres+")")
	fs.StringVar(&o.redis, "redis", os.Getenv(envRedis), "Redis server axiom serve shares its limiter through on PostgreSQL, as deployed (--redis; default $"+envRedis+")")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.duration <= 0 || o.rounds <= 0 || o.concurrency <= 0 || o.requests <= 0 || o.leads <= 0 {
		return o, errors.New("-duration, -rounds, -concurrency, -requests and -leads must be positive")
	}
	for _, s := range strings.Split(o.scenarios, ",") {
		if _, ok := scenarioByName(s); !ok {
			return o, fmt.Errorf("-scenarios: unknown %q", s)
		}
	}
	for _, b := range strings.Split(o.backends, ",") {
		if b != "sqlite" && b != "postgres" {
			return o, fmt.Errorf("-backends: unknown %q (sqlite, postgres)", b)
		}
	}
	if o.postgres != "" && !isPostgres(o.postgres) {
		return o, errors.New("-postgres: not a postgres:// or postgresql:// URL")
	}
	return o, nil
}

// The variables naming the test services, which the run uses by default.
const (
	envPostgres = "AXIOM_TEST_POSTGRES_URL"
	envRedis    = "AXIOM_TEST_REDIS_URL"
)

// target is one of the servers compared.
type target struct {
	name  string
	slug  string
	flags []string // of axiom serve; nil for the bare handler and the floor
	proc  *process
}

func targets() []*target {
	return []*target{
		{name: "bare Echo handler, same bytes", slug: "bare"},
		{name: "same-work floor (prepared SQL, encoding/json)", slug: "floor"},
		{name: "axiom serve, validation off", slug: "off", flags: []string{"--request-validation", "off", "--response-validation", "off"}},
		{name: "axiom serve, request validation", slug: "request", flags: []string{"--request-validation", "on", "--response-validation", "off"}},
		{name: "axiom serve, request + response validation", slug: "full", flags: []string{"--request-validation", "on", "--response-validation", "enforce"}},
	}
}

// scenario is one request the servers are driven with.
type scenario struct {
	name, label string
	status      int
	request     func(host string, keys seeded, emails *atomic.Uint64) load.Request
}

var scenarios = []scenario{
	{name: "list", label: "GET /v1/leads?limit=20", status: http.StatusOK,
		request: func(host string, k seeded, _ *atomic.Uint64) load.Request {
			return load.Build("GET", host, "/v1/leads?limit=20", http.Header{"X-Api-Key": {k.ReadKey}}, nil)
		}},
	{name: "add", label: "POST /v1/leads/add", status: http.StatusCreated,
		request: func(host string, k seeded, emails *atomic.Uint64) load.Request {
			h := http.Header{"X-Api-Key": {k.WriteKey}, "Content-Type": {"application/json"}}
			return load.Build("POST", host, "/v1/leads/add", h, func(uint64) []byte { return newLead(emails.Add(1)) })
		}},
	{name: "search", label: "GET /v1/leads?search=" + searchWord + "&limit=20", status: http.StatusOK,
		request: func(host string, k seeded, _ *atomic.Uint64) load.Request {
			return load.Build("GET", host, "/v1/leads?search="+searchWord+"&limit=20", http.Header{"X-Api-Key": {k.ReadKey}}, nil)
		}},
}

func scenarioByName(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// newLead is the body of a create, with an email no other create uses.
func newLead(n uint64) []byte {
	return fmt.Appendf(nil, `{"name":"Load Test %d","email":"load.test.%d@example-realty.com","phone":"+11235550199",`+
		`"company":"Acme Real Estate","type":"prospect","source":"Website","tags":["buyer","residential"],`+
		`"notes":["Called on Monday; interested in three-bedroom houses near the river."],`+
		`"custom_fields":{"preferred_location":"Downtown","budget":"$500k-$750k"}}`, n, n)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "axiom-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dbDir := o.dbDir
	if dbDir == "" {
		dbDir = dir
	}

	axiom := o.axiom
	if axiom == "" {
		axiom = filepath.Join(dir, "axiom")
		log.Info("building axiom", slog.String("out", axiom))
		build := exec.CommandContext(ctx, "go", "build", "-o", axiom, "github.com/axiomkit/axiom/cmd/axiom")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	// A backend that fails leaves the tables of those before it printed.
	var md strings.Builder
	var failed error
	for _, backend := range strings.Split(o.backends, ",") {
		if backend == "postgres" && o.postgres == "" {
			why := "no PostgreSQL to run on: neither -postgres nor " + envPostgres + " names one"
			(&report{backend: backend, skipped: why}).write(&md)
			log.Warn("the PostgreSQL run is skipped: " + why)
			continue
		}
		rep, err := runBackend(ctx, bench{opts: o, backend: backend, axiom: axiom, self: self, dir: dir, dbDir: dbDir, log: log})
		if err != nil {
			failed = fmt.Errorf("%s: %w", backend, err)
			break
		}
		rep.write(&md)
	}
	fmt.Fprint(stdout, md.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md.String()), 0o644); err != nil {
			return errors.Join(failed, err)
		}
	}
	return failed
}

// bench is what a run on one backend needs.
type bench struct {
	opts        options
	backend     string // sqlite or postgres
	axiom, self string // the binaries
	dir, dbDir  string
	log         *slog.Logger
}

// runBackend seeds the backend's database, starts the servers on it,
// checks that the floor and axiom answer the same pages, drives them and
// returns the report of the rounds.
func runBackend(ctx context.Context, b bench) (*report, error) {
	o, log, dir := b.opts, b.log, b.dir
	// Each server's --db, and what the report says of the backend.
	var dbOf func(t *target) (string, error)
	var keys seeded
	var about string
	began := time.Now()
	switch b.backend {
	case "sqlite":
		path, cleanup, err := seedPath(dir)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		if keys, err = seed(ctx, path, o.leads); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		// A copy each, SQLite having one writer per file.
		dbOf = func(t *target) (string, error) {
			db := filepath.Join(b.dbDir, t.slug+".db")
			return db, copyFile(path, db)
		}
		about = "SQLite on disk, synchronous=FULL, a copy of the seeded file for each server"
	case "postgres":
		url, drop, err := benchSchema(ctx, o.postgres)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := drop(); err != nil {
				log.Warn("dropping the run's schema", slog.Any("error", err))
			}
		}()
		// The seed alone commits without waiting for the disk: the servers
		// keep PostgreSQL's own setting.
		seedURL, err := withParam(url, "synchronous_commit", "off")
		if err != nil {
			return nil, err
		}
		if keys, err = seedPostgres(ctx, seedURL, o.leads); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		dbOf = func(*target) (string, error) { return url, nil }
		if about, err = describePostgres(ctx, url); err != nil {
			return nil, err
		}
		if o.redis != "" {
			about += "; axiom serve with --redis (its limiter, off in this run, is not consulted per request)"
		}
	}
	log.Info("seeded", slog.String("backend", b.backend), slog.Int("leads", o.leads), slog.Duration("took", time.Since(began).Round(time.Millisecond)))

	// Registered after the schema's drop, so that the servers stop before it.
	ts := targets()
	defer func() {
		for _, t := range ts {
			if t.proc != nil {
				if err := t.proc.stop(); err != nil {
					log.Warn("stopping", slog.String("server", t.name), slog.Any("error", err))
				}
			}
		}
	}()

	for _, t := range ts[1:] {
		db, err := dbOf(t)
		if err != nil {
			return nil, err
		}
		logFile := filepath.Join(dir, b.backend+"-"+t.slug+".log")
		if t.slug == "floor" {
			if t.proc, err = start(ctx, t.name, logFile, b.self, "floor", "--addr", "{addr}", "--db", db,
				"--account", keys.ReadAccount, "--write-account", keys.WriteAccount); err != nil {
				return nil, err
			}
			continue
		}
		argv := []string{b.axiom, "serve", "--addr", "{addr}", "--db", db, "--rate-limit", "off", "--log-level", o.logLevel}
		if b.backend == "postgres" && o.redis != "" {
			argv = append(argv, "--redis", o.redis)
		}
		if t.proc, err = start(ctx, t.name, logFile, append(argv, t.flags...)...); err != nil {
			return nil, err
		}
	}
	// Only the same work is compared: the floor must answer the pages
	// axiom answers.
	if err := samePages(ts[1].proc.addr, ts[4].proc.addr, keys); err != nil {
		return nil, err
	}
	reps, err := captureReplies(ts[2].proc.addr, keys)
	if err != nil {
		return nil, err
	}
	repFile := filepath.Join(dir, b.backend+"-replies.json")
	js, err := json.Marshal(reps)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(repFile, js, 0o644); err != nil {
		return nil, err
	}
	if ts[0].proc, err = start(ctx, ts[0].name, filepath.Join(dir, b.backend+"-bare.log"), b.self, "bare", "--addr", "{addr}", "--replies", repFile); err != nil {
		return nil, err
	}

	var scens []scenario
	for _, name := range strings.Split(o.scenarios, ",") {
		s, _ := scenarioByName(name)
		scens = append(scens, s)
	}
	rep := &report{backend: b.backend, about: about, opts: o, scenarios: scens, targets: ts, results: map[string][]measured{}, loadBefore: loadAverage()}
	var emails atomic.Uint64
	emails.Store(uint64(time.Now().UnixNano()))
	for round := range o.rounds {
		for _, s := range scens {
			for i := range ts {
				// A rotating order, so that no server always runs first or
				// last in a round on a machine whose load drifts.
				t := ts[(i+round)%len(ts)]
				req := s.request(t.proc.addr, keys, &emails)
				if round == 0 {
					if _, err := load.Run(ctx, load.Options{Addr: t.proc.addr, Concurrency: o.concurrency, Duration: o.warmup, Status: s.status}, req); err != nil {
						return nil, fmt.Errorf("warm-up of %s: %w", t.name, err)
					}
				}
				cpu := t.proc.cpuTime()
				res, err := load.Run(ctx, load.Options{
					Addr: t.proc.addr, Concurrency: o.concurrency, Duration: o.duration, Requests: o.requests, Status: s.status,
				}, req)
				if err != nil {
					return nil, fmt.Errorf("%s on %s: %w", s.label, t.name, err)
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				m := measured{Result: res}
				if n := res.OK + res.Failed; n > 0 {
					m.cpu = (t.proc.cpuTime() - cpu) / time.Duration(n)
				}
				log.Info("run", slog.Int("round", round+1), slog.String("request", s.name), slog.String("server", t.slug),
					slog.Int("req/s", int(res.Rate())), slog.Duration("p50", res.P50), slog.Duration("p99", res.P99),
					slog.Duration("server_cpu/req", m.cpu), slog.Int64("failed", res.Failed))
				if res.FirstFailure != "" {
					log.Warn("failures", slog.String("server", t.slug), slog.String("first", res.FirstFailure))
				}
				rep.add(s, t, m)
			}
		}
	}
	rep.loadAfter = loadAverage()
	return rep, nil
}

// seedPath is where to seed the database: in memory-backed /dev/shm when
// there is one, where a commit costs no disk flush, then copied.
func seedPath(dir string) (string, func(), error) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "axiom-bench-"); err == nil {
			return filepath.Join(d, "seed.db"), func() { os.RemoveAll(d) }, nil
		}
	}
	return filepath.Join(dir, "seed.db"), func() {}, nil
}

// copyFile copies a closed SQLite database, with its log if it kept one.
func copyFile(from, to string) error {
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(to+suffix, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// captureReplies records the real server's answer to each scenario.
func captureReplies(addr string, keys seeded) (replies, error) {
	base := "http://" + addr
	reps := replies{}
	for _, s := range scenarios {
		var req *http.Request
		switch s.name {
		case "add":
			req, _ = http.NewRequest("POST", base+"/v1/leads/add", strings.NewReader(string(newLead(0))))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", keys.WriteKey)
		case "list":
			req, _ = http.NewRequest("GET", base+"/v1/leads?limit=20", nil)
			req.Header.Set("X-API-Key", keys.ReadKey)
		case "search":
			req, _ = http.NewRequest("GET", base+"/v1/leads?search="+searchWord+"&limit=20", nil)
			req.Header.Set("X-API-Key", keys.ReadKey)
		}
		c, err := capture(req, s.status)
		if err != nil {
			return nil, fmt.Errorf("capturing %s: %w", s.label, err)
		}
		reps[s.name] = c
	}
	return reps, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// median of xs, which it sorts.
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

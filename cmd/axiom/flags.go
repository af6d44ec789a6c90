package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// newFlagSet is a flag set whose values can come from AXIOM_* variables
// (parse sets them).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse sets each flag of fs from its AXIOM_ variable, then from args: -h
// is flag.ErrHelp (the usage was printed, which is a success), any other
// mistake errUsage. The usage says which flags the environment set, never
// their values (they hold passwords), and shows only built-in defaults.
func parse(fs *flag.FlagSet, args []string) error {
	var bad []string
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		f.Usage += " [set by " + name + "]"
		if err := f.Value.Set(v); err != nil {
			bad = append(bad, name)
		}
	})
	if len(bad) > 0 {
		fmt.Fprintf(fs.Output(), "%s: not a valid value for its flag\n", strings.Join(bad, ", "))
		return errUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// envName is the variable of flag name: AXIOM_ and its name in capitals.
func envName(flag string) string {
	return "AXIOM_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// oneOf checks a flag's value against the values it may take.
func oneOf(flagName, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("--%s must be one of %s, not %q", flagName, strings.Join(allowed, ", "), v)
}

// parseBucket reads RATE/BURST: requests per minute, and at once.
func parseBucket(s string) (ratelimit.Limit, error) {
	rate, burst, ok := strings.Cut(s, "/")
	r, rerr := strconv.Atoi(strings.TrimSpace(rate))
	b, berr := strconv.Atoi(strings.TrimSpace(burst))
	l := ratelimit.Limit{Rate: r, Burst: b}
	if !ok || rerr != nil || berr != nil || l.Validate() != nil {
		return ratelimit.Limit{}, fmt.Errorf("want RATE/BURST, two positive whole numbers such as 60/60, not %q", s)
	}
	return l, nil
}

// parseQuotas reads PLAN=N,…: the daily sending quota of each plan named.
func parseQuotas(s string) (axiom.SendQuotas, error) {
	q := axiom.SendQuotas{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, n, ok := strings.Cut(f, "=")
		p, err := axiom.ParsePlan(strings.TrimSpace(name))
		v, nerr := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err != nil || nerr != nil || v < 0 {
			return nil, fmt.Errorf("want PLAN=N,… with plans %v and whole numbers, not %q", axiom.Plans(), f)
		}
		q[p] = v
	}
	return q, nil
}

// parsePrefixes reads a comma-separated list of addresses and CIDR ranges.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// logOptions are the logging flags of the commands that log.
type logOptions struct{ level, format *string }

func logFlags(fs *flag.FlagSet) *logOptions {
	return &logOptions{
		level:  fs.String("log-level", "info", "debug, info, warn or error (AXIOM_LOG_LEVEL)"),
		format: fs.String("log-format", "json", "json (one object a line) or text (key=value) (AXIOM_LOG_FORMAT)"),
	}
}

// logger is the command's logger on w, as the flags say; durations are
// written as Go writes them (1.5s), not as nanoseconds.
func (o *logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(*o.level) {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level must be one of debug, info, warn, error, not %q", *o.level)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: humanDuration}
	switch *o.format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text, not %q", *o.format)
}

func humanDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/axiomkit/axiom/contract"
)

// contractCmd checks a running server against the API's contract and
// prints a report. It exits 1 when the server does not conform, 2 when it
// could not check it (a usage error, a server it cannot reach, a key
// refused or read-only).
func contractCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("axiom contract", stderr)
	baseURL := fs.String("base-url", "http://localhost:8080/v1", "the API's base URL, ending in /v1 (AXIOM_BASE_URL)")
	apiKey := fs.String("api-key", "", "a read-write key of the account to work in (AXIOM_API_KEY)")
	secondKey := fs.String("second-key", "", "a key of another account, for the isolation checks (AXIOM_SECOND_KEY)")
	documentedOnly := fs.Bool("documented-only", false, "only the operations marked x-axiom-documented: true")
	spendQuota := fs.Bool("spend-quota", false, "exhaust the account's burst to check the 429 (the account is throttled for a while)")
	seed := fs.Uint64("seed", 0, "seed of the generated inputs; 0 draws one (printed, to replay a run)")
	examples := fs.Int("examples", 3, "generated valid and invalid inputs per operation")
	report := fs.String("report", "text", "report format: text, json or junit")
	excludeTags := fs.String("exclude-tag", "", "comma-separated tags whose operations to leave out, as Campaigns")
	verbose := fs.Bool("v", false, "log every request to stderr (--log-level debug)")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	mailSink := fs.String("mail-sink", "", "listen for SMTP on this host:port and follow the links of the mail received there;"+
		" run the server under test with its relay there (axiom serve --smtp-url smtp://HOST:PORT?starttls=none) (AXIOM_MAIL_SINK)")
	logOpts := logFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *verbose {
		*logOpts.level = "debug"
	}
	log, err := logOpts.logger(stderr)
	if err != nil {
		return err
	}
	if err := oneOf("report", *report, "text", "json", "junit"); err != nil {
		return err
	}
	if *apiKey == "" {
		return fmt.Errorf("%w: --api-key (or AXIOM_API_KEY) is required", errUsage)
	}
	if *seed == 0 {
		*seed = rand.Uint64()>>1 + 1
	}
	cfg := contract.Config{
		BaseURL: *baseURL, APIKey: *apiKey, SecondAccountKey: *secondKey,
		DocumentedOnly: *documentedOnly, SpendQuota: *spendQuota, Seed: *seed, Examples: *examples,
		Logger: log,
	}
	if *mailSink != "" {
		sink, err := contract.ListenMailSink(*mailSink)
		if err != nil {
			return fmt.Errorf("%w: --mail-sink: %w", errUsage, err)
		}
		defer sink.Close()
		cfg.LiveLinks = sink.LiveLinks
	}
	if !*quiet {
		// The report is stdout's (JSON and JUnit are parsed); progress is for the person watching.
		cfg.Progress = stderr
	}
	for _, t := range strings.Split(*excludeTags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.ExcludeTags = append(cfg.ExcludeTags, t)
		}
	}
	rep, err := contract.Check(ctx, cfg)
	if err != nil {
		return err
	}
	switch *report {
	case "json":
		err = rep.WriteJSON(stdout)
	case "junit":
		err = rep.WriteJUnit(stdout)
	default:
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("%w: the server does not conform: %s failed (replay with --seed %d)", errFindings, strings.Join(rep.FailedChecks(), ", "), rep.Seed)
	}
	return nil
}

// Command axiom runs the Axiom API's reference server and manages its keys.
//
//	axiom serve [--addr :8080] [--db axiom.db|:memory:|postgres://…] [--redis redis://…] [--smtp-url smtp://…] [--public-url URL]
//	            [--response-validation enforce|log|off] [--rate-limit on|off] [--log-level info]  (axiom serve -h for all)
//	axiom keys create --db PATH --plan starter|professional|enterprise [--account ID] [--read-only] [--name N]
//	axiom keys list --db PATH
//	axiom keys revoke --db PATH KEY_ID
//	axiom contract --base-url URL --api-key KEY [--second-key KEY] [--documented-only] [--spend-quota] [--seed N] [--report text|json|junit]
//	axiom version
//	axiom serve … [--seed FIXTURE] [--faults FILE] [--fault RULE]… [--admin-addr 127.0.0.1:8081] [--admin-token T]
//	axiom export --db PATH [--format yaml|json] [--out FILE]
//	axiom proxy --upstream URL [--addr 127.0.0.1:8090] [--fail-on-violation]
//
// Every flag of serve can also be set by an environment variable named
// AXIOM_ and the flag in upper case (AXIOM_ADDR, AXIOM_DB, …).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/axiomkit/axiom/internal/buildinfo"
)

const usage = `axiom runs the Axiom API's reference server.

Usage:
  axiom serve [flags]          run the server (axiom serve -h for its flags)
  axiom keys create [flags]    create an API key; prints only the key
  axiom keys list [flags]      list API keys (never their secrets)
  axiom keys revoke [flags] ID revoke an API key
  axiom contract [flags]       check a running server against openapi.yaml
  axiom version                the version, commit and build of this binary
  axiom export [flags]         write the database as a fixture (serve --seed loads it)
  axiom proxy [flags]          forward to another server, checking its traffic against openapi.yaml

Run axiom COMMAND -h for a command's flags. Exit status: 0 success, 1 the
server checked does not conform (contract, proxy --fail-on-violation), 2
any other failure.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		// A bare errUsage follows the usage text, printed already.
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "axiom:", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 1 when a command ran and found the server at fault, 2 for
// every other failure (usage, setup, I/O), 0 for none.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFindings):
		return 1
	}
	return 2
}

var errUsage = errors.New("usage")

// run is the whole program, apart from the process's signals and exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "keys":
		return keys(ctx, args[1:], stdout, stderr)
	case "contract":
		return contractCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprint(stdout, buildinfo.Read())
		return nil
	case "export":
		return export(ctx, args[1:], stdout, stderr)
	case "proxy":
		return proxyCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "axiom: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

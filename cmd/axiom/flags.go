package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet is a flag set whose defaults can come from AXIOM_* variables.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args into fs: -h is flag.ErrHelp (the usage was printed,
// which is a success), any other mistake errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// env is the AXIOM_ variable for a flag, or def when it is unset.
func env(flagName, def string) string {
	if v, ok := os.LookupEnv("AXIOM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))); ok {
		return v
	}
	return def
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

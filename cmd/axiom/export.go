package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/axiomkit/axiom/internal/fixture"
)

// export writes the database as a fixture, the format --seed loads.
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("axiom export", stderr)
	db := fs.String("db", "axiom.db", "database: a SQLite file path or a postgres:// URL (AXIOM_DB)")
	format := fs.String("format", "yaml", "yaml or json")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneOf("format", *format, "yaml", "json"); err != nil {
		return err
	}
	st, err := openStore(ctx, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.Export(ctx)
	if err != nil {
		return err
	}
	// A campaign being sent has an outbox, which a fixture does not hold.
	for i := range d.Accounts {
		a := &d.Accounts[i]
		kept := a.Campaigns[:0]
		for _, c := range a.Campaigns {
			if !c.Status.Seedable() {
				fmt.Fprintf(stderr, "axiom export: campaign %s of account %s is %s: left out, as a fixture holds no outbox\n", c.ID, a.Account.ID, c.Status)
				continue
			}
			kept = append(kept, c)
		}
		a.Campaigns = kept
	}
	marshal := fixture.MarshalYAML
	if *format == "json" {
		marshal = fixture.MarshalJSON
	}
	b, err := marshal(d)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, b, 0o600)
	}
	_, err = stdout.Write(b)
	return err
}

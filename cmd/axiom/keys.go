package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/axiomkit/axiom"
)

const keysUsage = `axiom keys manages the API keys of a database axiom serve created.

Usage:
  axiom keys create [flags]    create an API key (and an account); prints only the key
  axiom keys list [flags]      list API keys (never their secrets)
  axiom keys revoke [flags] ID revoke an API key

Run axiom keys COMMAND -h for a command's flags.
`

func keys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	fs := newFlagSet("axiom keys "+args[0], stderr)
	db := fs.String("db", "axiom.db", "the server's database (AXIOM_DB)")
	switch args[0] {
	case "create":
		plan := fs.String("plan", "starter", "the new account's plan: starter, professional or enterprise")
		account := fs.String("account", "", "add the key to this account instead of a new one")
		readOnly := fs.Bool("read-only", false, "the key may only read")
		name := fs.String("name", "", "a name to recognise the key by")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		p, err := axiom.ParsePlan(*plan)
		if err != nil {
			return fmt.Errorf("--plan: %w", err)
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		acc := *account
		if acc == "" {
			a := axiom.NewAccount(p, time.Now())
			if err := st.CreateAccount(ctx, a); err != nil {
				return err
			}
			acc = a.ID
		} else if _, err := st.GetAccount(ctx, acc); err != nil {
			return fmt.Errorf("account %s: %w", acc, err)
		}
		k, secret := axiom.NewKey(acc, *name, *readOnly, time.Now())
		if err := st.CreateKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		ks, err := st.ListKeys(ctx, "")
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tACCOUNT\tNAME\tKEY\tACCESS\tCREATED\tREVOKED")
		for _, k := range ks {
			access, revoked := "read-write", "-"
			if k.ReadOnly {
				access = "read-only"
			}
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.AccountID, k.Name, k.Hint, access,
				k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("axiom keys revoke needs one key id (see axiom keys list)")
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.RevokeKey(ctx, strings.TrimSpace(fs.Arg(0)), time.Now()); err != nil {
			return fmt.Errorf("revoke %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
		return nil
	}
	fmt.Fprintf(stderr, "axiom keys: unknown command %q\n\n%s", args[0], keysUsage)
	return errUsage
}

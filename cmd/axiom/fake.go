package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/fixture"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/fault"
)

// fakeOptions are serve's flags for running as a test fake: a seed, fault
// rules and the admin endpoint.
type fakeOptions struct {
	seedFile, faultsFile  *string
	faultFlags            *listFlag
	adminAddr, adminToken *string
	data                  *axiom.Dataset
	rules                 []fault.Rule
	faults                *fault.Set // nil: no fault stage
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func fakeFlags(fs *flag.FlagSet) *fakeOptions {
	o := &fakeOptions{faultFlags: &listFlag{}}
	o.seedFile = fs.String("seed", "", "load this fixture (YAML or JSON, see docs/fake.md) at start, all or nothing; loading it again changes nothing (AXIOM_SEED)")
	o.faultsFile = fs.String("faults", "", "put in force the fault rules of this file (YAML or JSON, see docs/fake.md) (AXIOM_FAULTS)")
	fs.Var(o.faultFlags, "fault", "put in force a fault rule, as field=value pairs: operation=listLeads,status=503,retry_after=2,times=3 (repeatable)")
	o.adminAddr = fs.String("admin-addr", "", "serve the admin endpoint (admin.openapi.yaml: reset, fault rules) on this address; a bare :PORT is loopback's; empty: off (AXIOM_ADMIN_ADDR)")
	o.adminToken = fs.String("admin-token", "", "the admin endpoint's bearer token; empty: a new one, printed at start (AXIOM_ADMIN_TOKEN)")
	return o
}

// load reads and checks the seed and the fault rules, before anything is
// stored: a mistake in either stops the start with nothing changed.
func (o *fakeOptions) load(spec *openapi3.T) error {
	if *o.seedFile != "" {
		d, err := fixture.ReadFile(*o.seedFile)
		if err != nil {
			return fmt.Errorf("--seed: %w", err)
		}
		o.data = &d
	}
	if *o.faultsFile != "" {
		rules, err := fault.ReadFile(*o.faultsFile)
		if err != nil {
			return fmt.Errorf("--faults: %w", err)
		}
		o.rules = append(o.rules, rules...)
	}
	for _, f := range *o.faultFlags {
		r, err := fault.ParseFlag(f)
		if err != nil {
			return fmt.Errorf("--fault: %w", err)
		}
		o.rules = append(o.rules, r)
	}
	if len(o.rules) == 0 && *o.adminAddr == "" {
		return nil // no fault stage in the pipeline
	}
	o.faults = fault.NewSet(spec)
	if _, err := o.faults.Replace(o.rules); err != nil {
		return fmt.Errorf("fault rules: %w", err)
	}
	return nil
}

// seed stores the seed, if there is one.
func (o *fakeOptions) seed(ctx context.Context, st fixture.Store, log *slog.Logger) error {
	if o.data == nil {
		return nil
	}
	if err := st.Seed(ctx, *o.data); err != nil {
		return fmt.Errorf("--seed %s: %w", *o.seedFile, err)
	}
	accounts, keys, leads, templates, campaigns := o.data.Counts()
	log.Info("seeded", slog.String("file", *o.seedFile), slog.Int("accounts", accounts), slog.Int("keys", keys),
		slog.Int("leads", leads), slog.Int("templates", templates), slog.Int("campaigns", campaigns))
	return nil
}

// runningAdmin is the admin endpoint being served; stop ends it.
type runningAdmin struct {
	cancel context.CancelFunc
	done   chan error
}

func (a *runningAdmin) stop() error {
	if a == nil {
		return nil
	}
	a.cancel()
	return <-a.done
}

// listenAdmin takes --admin-addr's port, if set, before anything else
// happens (loopback unless the address names a host).
func (o *fakeOptions) listenAdmin() (net.Listener, error) {
	if *o.adminAddr == "" {
		return nil, nil
	}
	addr := *o.adminAddr
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		addr = net.JoinHostPort("127.0.0.1", port) // loopback unless told otherwise
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--admin-addr %s: %w", *o.adminAddr, err)
	}
	return ln, nil
}

// startAdmin serves the admin endpoint on ln (nil: no --admin-addr), with
// the database as it is now (seeded, bootstrapped) as what a reset restores.
func (o *fakeOptions) startAdmin(ctx context.Context, ln net.Listener, st fixture.Store, api *server.Server, stdout io.Writer, log *slog.Logger) (*runningAdmin, error) {
	if ln == nil {
		return nil, nil
	}
	baseline, err := fixture.Seed(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	token := *o.adminToken
	if token == "" {
		token = rand.Text()
		fmt.Fprintf(stdout, "The admin endpoint's token, for Authorization: Bearer:\n\n    %s\n\n", token)
	}
	admin, err := server.NewAdmin(server.AdminConfig{Token: token, Data: baseline, API: api, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("admin endpoint listening", slog.String("admin_addr", ln.Addr().String()),
		slog.String("admin", fmt.Sprintf("http://%s/admin", ln.Addr())))
	actx, cancel := context.WithCancel(ctx)
	a := &runningAdmin{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := serveHTTP(actx, ln, admin, log.With(slog.String("listener", "admin")))
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		a.done <- err
	}()
	return a, nil
}

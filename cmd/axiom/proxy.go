package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"

	"github.com/axiomkit/axiom/internal/proxy"
)

// errFindings is the error of a command that ran and found the server at
// fault (contract, proxy --fail-on-violation): it exits 1, not 2.
var errFindings = errors.New("findings")

// proxyCmd forwards to --upstream and checks the traffic against the spec.
func proxyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("axiom proxy", stderr)
	upstream := fs.String("upstream", "", "the API to forward to: its base URL, ending in /v1 (AXIOM_UPSTREAM)")
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on; clients use http://ADDR/v1 (AXIOM_PROXY_ADDR)")
	failOn := fs.Bool("fail-on-violation", false, "exit with status 1 if any request or response broke the contract")
	logOpts := logFlags(fs) // violations are logged at warn
	if err := parse(fs, args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("--upstream must be an http(s) URL such as https://staging.example.com/v1, without credentials, not %q", *upstream)
	}
	log, err := logOpts.logger(stderr)
	if err != nil {
		return err
	}
	p, err := proxy.New(proxy.Config{Upstream: u, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log.Info("proxying", slog.String("addr", ln.Addr().String()), slog.String("api", fmt.Sprintf("http://%s/v1", ln.Addr())),
		slog.String("upstream", u.Redacted()))
	err = serveHTTP(ctx, ln, p, log)
	s := p.Summary()
	log.Info("summary", slog.Int("requests", s.Requests), slog.Int("faulty_requests", s.Faulty), slog.Int("violations", s.Total()))
	proxy.WriteSummary(stdout, s)
	if err != nil {
		return err
	}
	if *failOn && s.Total() > 0 {
		return fmt.Errorf("%w: the traffic broke the contract", errFindings)
	}
	return nil
}

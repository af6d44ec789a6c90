package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server"
)

// shutdownGrace is how long in-flight requests may run after SIGINT/SIGTERM.
const shutdownGrace = 15 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("axiom serve", stderr)
	addr := fs.String("addr", ":8080", "address to listen on (AXIOM_ADDR)")
	db := fs.String("db", "axiom.db", "database: a SQLite file path, :memory:, or a postgres:// URL (AXIOM_DB)")
	responses := fs.String("response-validation", "enforce", "what to do with a response that breaks the spec: enforce, log or off (AXIOM_RESPONSE_VALIDATION)")
	rateLimit := fs.String("rate-limit", "on", "enforce the plans' rate limits: on or off (AXIOM_RATE_LIMIT)")
	redisURL := fs.String("redis", "", "share rate limits between servers through Redis, redis://[:password@]host:port[/db]; empty keeps them in this process (AXIOM_REDIS)")
	redisFailure := fs.String("redis-failure", "fail-open", "when Redis cannot be reached: fail-open admits requests uncounted, fail-closed answers them 500 internal_error (AXIOM_REDIS_FAILURE)")
	requests := fs.String("request-validation", "on", "validate requests against the spec: on, or off for load runs only (AXIOM_REQUEST_VALIDATION)")
	unauthenticated := fs.String("unauthenticated-limit", "60/60", "the bucket of each client address's requests without a valid key, RATE/BURST in requests per minute and at once (AXIOM_UNAUTHENTICATED_LIMIT)")
	linkToken := fs.String("link-token-limit", "30/10", "the bucket of each token of a message's public links (pixel, tracked link, unsubscribe), RATE/BURST per minute and at once (AXIOM_LINK_TOKEN_LIMIT)")
	linkAddr := fs.String("link-address-limit", "600/120", "the bucket of each client address on the public links of messages, RATE/BURST per minute and at once (AXIOM_LINK_ADDRESS_LIMIT)")
	trustedProxies := fs.String("trusted-proxy", "", "comma-separated addresses or CIDR ranges of the proxies whose X-Forwarded-For names the client address; empty trusts none (AXIOM_TRUSTED_PROXY)")
	keyCache := fs.String("key-cache", "1s", "how long a verified API key is trusted before the database is read again: a key revoked meanwhile works for up to this long;"+
		" at most 1m; 0 reads it on every request (AXIOM_KEY_CACHE)")
	maxConns := fs.String("max-conns", strconv.Itoa(server.DefaultMaxConns), "the most client connections open at once; further ones wait until one closes (AXIOM_MAX_CONNS)")
	idemWait := fs.String("idempotency-wait", "10s", "how long a retry waits for the first request with its Idempotency-Key before it is answered 409 (AXIOM_IDEMPOTENCY_WAIT)")
	gcFlag := fs.String("gc-percent", "", "the garbage collector's target as GOGC has it: how far, in percent, the heap grows between collections, or off;"+
		" empty takes GOGC from the environment if set, else "+strconv.Itoa(defaultGCPercent)+" (AXIOM_GC_PERCENT)")
	logOpts := logFlags(fs)
	smtpURL := fs.String("smtp-url", "", "SMTP relay of campaign messages, smtp[s]://[user:password@]host[:port]"+
		"[?starttls=required|opportunistic|none&from=ADDRESS&reply-to=ADDRESS&auth=MECHANISM&timeout=30s]; empty keeps messages in the outbox only (AXIOM_SMTP_URL)")
	sendRate := fs.String("send-rate", "10", "campaign messages per second each account may send to the relay, counted across servers through --redis;"+
		" 0 for no limit (AXIOM_SEND_RATE)")
	sendQuota := fs.String("send-quota", "starter=10000,professional=100000,enterprise=1000000",
		"campaign messages each plan may queue in any 24 hours, PLAN=N,…; a plan left out has no quota (AXIOM_SEND_QUOTA)")
	retention := fs.String("message-retention", "720h",
		"how long a finished campaign keeps its messages' bodies before they are dropped (statistics, links and metadata stay); 0 keeps them (AXIOM_MESSAGE_RETENTION)")
	publicURL := fs.String("public-url", "", "the API's base URL as clients and email recipients reach it: where tracking and unsubscribe links lead,"+
		" and the first server of /docs; empty means http://localhost:PORT/v1 with the port of --addr for links, and each visitor's own origin for /docs (AXIOM_PUBLIC_URL)")
	fake := fakeFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := validation.ParseMode(*responses)
	if err != nil {
		return fmt.Errorf("--response-validation: %w", err)
	}
	if err := oneOf("rate-limit", *rateLimit, "on", "off"); err != nil {
		return err
	}
	if err := oneOf("redis-failure", *redisFailure, "fail-open", "fail-closed"); err != nil {
		return err
	}
	if err := oneOf("request-validation", *requests, "on", "off"); err != nil {
		return err
	}
	keyTTL, err := time.ParseDuration(*keyCache)
	if err != nil || keyTTL < 0 || keyTTL > server.MaxKeyCacheTTL {
		return fmt.Errorf("--key-cache must be a duration from 0 to %s such as 1s (a revoked key works for up to this long), not %q",
			server.MaxKeyCacheTTL, *keyCache)
	}
	gc, setGC, err := gcPercent(*gcFlag, os.Getenv("GOGC"))
	if err != nil {
		return err
	}
	conns, err := strconv.Atoi(*maxConns)
	if err != nil || conns < 1 {
		return fmt.Errorf("--max-conns must be a whole number of at least 1, not %q", *maxConns)
	}
	anon, err := parseBucket(*unauthenticated)
	if err != nil {
		return fmt.Errorf("--unauthenticated-limit: %w", err)
	}
	perToken, err := parseBucket(*linkToken)
	if err != nil {
		return fmt.Errorf("--link-token-limit: %w", err)
	}
	perAddr, err := parseBucket(*linkAddr)
	if err != nil {
		return fmt.Errorf("--link-address-limit: %w", err)
	}
	proxies, err := parsePrefixes(*trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	idemTTL, err := time.ParseDuration(*idemWait)
	if err != nil || idemTTL <= 0 {
		return fmt.Errorf("--idempotency-wait must be a positive duration such as 10s, not %q", *idemWait)
	}
	log, err := logOpts.logger(stderr)
	if err != nil {
		return err
	}
	rate, err := strconv.ParseFloat(*sendRate, 64)
	if err != nil || rate < 0 || math.IsInf(rate, 0) || rate > 0 && rate*60 < 1 {
		return fmt.Errorf("--send-rate must be a number of messages per second of at least 1/60 (0.0167), or 0 for no limit, not %q", *sendRate)
	}
	keep, err := time.ParseDuration(*retention)
	if err != nil || keep < 0 {
		return fmt.Errorf("--message-retention must be a duration such as 720h, or 0, not %q", *retention)
	}
	quotas, err := parseQuotas(*sendQuota)
	if err != nil {
		return fmt.Errorf("--send-quota: %w", err)
	}
	var relay *campaign.SMTPConfig
	if *smtpURL != "" {
		c, err := campaign.ParseSMTPURL(*smtpURL)
		if err != nil {
			return fmt.Errorf("--smtp-url: %w", err)
		}
		relay = &c
	}

	if setGC {
		debug.SetGCPercent(gc)
	}

	// The ports are taken, and every file read and checked, before the
	// database is touched: a failed start creates nothing and prints no key.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	ln = server.Listen(ln, conns)
	defer ln.Close()
	adminLn, err := fake.listenAdmin()
	if err != nil {
		return err
	}
	if adminLn != nil {
		defer adminLn.Close()
	}
	public := *publicURL
	if public == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		public = "http://localhost:" + port + "/v1"
	}
	if _, err := campaign.ParsePublicURL(public); err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	spec, err := server.LoadSpec()
	if err != nil {
		return err
	}
	if err := fake.load(spec); err != nil {
		return err
	}

	st, err := openStore(ctx, *db, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fake.seed(ctx, st, log); err != nil {
		return err
	}
	if err := bootstrap(ctx, st, stdout, log); err != nil {
		return err
	}

	// Without Redis, each server counts requests and sends on its own.
	var limiter, sendLimiter ratelimit.Limiter = ratelimit.NewMemory(), ratelimit.NewMemory()
	if *redisURL != "" {
		shared, closeRedis, err := openRedisLimiter(ctx, *redisURL, *redisFailure, log)
		if err != nil {
			return err
		}
		defer closeRedis()
		limiter, sendLimiter = shared, shared
	}
	if *rateLimit == "off" {
		log.Warn("RATE LIMITING IS OFF: every request is admitted; use this only for load runs and local experiments")
		limiter = nil
	}
	if *requests == "off" {
		log.Warn("REQUEST VALIDATION IS OFF: requests reach the handlers unchecked; use this only for load runs")
	}
	if relay != nil && !strings.HasPrefix(public, "https://") {
		log.Warn("--public-url is not https: mailbox providers ignore the one-click unsubscribe of messages whose link is not https (RFC 8058)",
			slog.String("public_url", public))
	}
	camps, err := campaign.NewService(campaign.Config{Store: st, PublicURL: public, Logger: log, Quotas: quotas})
	if err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	srv, err := server.New(server.Config{
		Leads: st, Templates: st, Properties: st, Analytics: st, Keys: st, Idempotency: st, Campaigns: camps, Ready: st,
		Limiter: limiter, Responses: mode, Logger: log, SkipRequestValidation: *requests == "off",
		KeyCacheTTL: keyTTL, IdempotencyWait: idemTTL, Unauthenticated: anon, TrustedProxies: proxies,
		LinkPerToken: perToken, LinkPerAddress: perAddr,
		Spec: spec, Faults: fake.faults, PublicURL: *publicURL,
	})
	if err != nil {
		return err
	}
	admin, err := fake.startAdmin(ctx, adminLn, st, srv, stdout, log)
	if err != nil {
		return err
	}
	stopWorker, err := startWorker(ctx, camps, st, relay, rate, keep, sendLimiter, log)
	if err != nil {
		admin.stop()
		return err
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()),
		slog.String("api", fmt.Sprintf("http://%s/v1", ln.Addr())),
		slog.String("public_url", public), slog.String("db", describeDB(*db)))
	err = serveHTTP(ctx, ln, srv, log)
	stopWorker()
	return errors.Join(err, admin.stop())
}

// startWorker runs the campaign worker (the outbox and the scheduler)
// until ctx ends or the returned function is called, which waits for the
// deliveries in flight to be recorded. Each account sends at most rate
// messages per second (0: no limit), counted by limiter.
func startWorker(ctx context.Context, camps *campaign.Service, outbox campaign.Outbox, relay *campaign.SMTPConfig,
	rate float64, retention time.Duration, limiter ratelimit.Limiter, log *slog.Logger) (stop func(), err error) {
	wc := campaign.WorkerConfig{Service: camps, Outbox: outbox, Logger: log, SendRate: rate, Limiter: limiter, Retention: retention}
	if relay != nil {
		if wc.Sender, err = campaign.NewSMTPSender(*relay); err != nil {
			return nil, fmt.Errorf("--smtp-url: %w", err)
		}
		wc.Timeout = relay.Timeout
		log.Info("campaign messages go to the SMTP relay", slog.String("relay", relay.String()), slog.Float64("send_rate", rate))
	} else {
		log.Info("no --smtp-url: campaign messages are kept in the outbox, not sent")
	}
	w, err := campaign.NewWorker(wc)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// httpLimits bound what one client may take of a connection, so that slow
// clients cannot hold connections open forever.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

// defaultHTTPLimits are the limits of axiom serve.
func defaultHTTPLimits() httpLimits {
	return httpLimits{readHeader: 5 * time.Second, read: 30 * time.Second, write: 30 * time.Second,
		idle: 120 * time.Second, maxHeaderBytes: 64 << 10}
}

// serveHTTP serves until ctx ends, then lets in-flight requests finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return serveHTTPLimited(ctx, ln, h, defaultHTTPLimits(), log)
}

// serveHTTPLimited is serveHTTP with the connection limits lim.
func serveHTTPLimited(ctx context.Context, ln net.Listener, h http.Handler, lim httpLimits, log *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		ConnContext:       server.ConnContext,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: waiting for in-flight requests", slog.Duration("grace", shutdownGrace))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bootstrap gives an empty database an account and a Starter key, printed
// once, so that `axiom serve` alone yields a working server. Of servers
// starting together on one empty database, one creates it.
func bootstrap(ctx context.Context, st database, stdout io.Writer, log *slog.Logger) error {
	now := time.Now()
	acc := axiom.NewAccount(axiom.PlanStarter, now)
	key, secret := axiom.NewKey(acc.ID, "default", false, now)
	created, err := st.Bootstrap(ctx, acc, key)
	if err != nil || !created {
		return err
	}
	log.Info("created the first account", slog.String("account", acc.ID), slog.String("plan", string(acc.Plan)))
	fmt.Fprintf(stdout, "Created account %s on the Starter plan. Its API key, shown only this once:\n\n    %s\n\n", acc.ID, secret)
	return nil
}

// defaultGCPercent is the collector's target unless told otherwise. The
// server's live heap is a few MB, so Go's default of 100 collects every few
// MB allocated: about a tenth of a list request's CPU. At 400 the heap may
// grow to five times the live one, a few MB more, and a page of leads costs
// a fifth less CPU (docs/performance.md).
const defaultGCPercent = 400

// gcPercent is the collector's target from --gc-percent (flag) and GOGC
// (env), and whether to set it: an empty flag leaves a GOGC of the
// environment in force.
func gcPercent(flag, env string) (int, bool, error) {
	switch {
	case flag == "" && env != "":
		return 0, false, nil
	case flag == "":
		return defaultGCPercent, true, nil
	case flag == "off":
		return -1, true, nil
	}
	n, err := strconv.Atoi(flag)
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("--gc-percent must be a whole number of at least 1 (GOGC's percent) or off, not %q", flag)
	}
	return n, true, nil
}

// Package servertest starts the Axiom reference server in-process for Go
// tests: a real listening server on loopback over an in-memory database.
//
//	srv := servertest.New(t)
//	c, _ := client.New(srv.Key, client.WithBaseURL(srv.URL))
//
// It is a fake of the Axiom API to test a client against: it can start
// from a fixture (WithSeedFile, WithSeed), go back to it between tests in
// milliseconds (Reset), and fail on purpose (WithFaults, Faults).
package servertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/fixture"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/internal/store/storetest"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/fault"
)

// Store is the server's database, every operation of it.
type Store = storetest.Store

// loadSpec parses the API description once for every server of the test
// binary: parsing is most of a start, and servers only read it.
var loadSpec = sync.OnceValues(server.LoadSpec)

// Server is a running reference server.
type Server struct {
	// URL is the API's base URL, ending in /v1.
	URL string
	// Key is an API key of a fresh account on the configured plan.
	Key string
	// AccountID is Key's account.
	AccountID string
	// Store is the server's database, for tests that look behind the API.
	Store Store
	// PublicURL is the base of the links in campaign messages: URL here.
	PublicURL string
	// Campaigns is the server's campaign service, for tests that read a
	// message's live body (Campaigns.Body) as its recipient gets it.
	Campaigns *campaign.Service
	// Faults are the fault rules in force, to change while the test runs.
	Faults *fault.Set
	// AdminURL, with WithAdmin, is the admin endpoint's base URL, ending in
	// /admin, and AdminToken its bearer token.
	AdminURL, AdminToken string

	http     *httptest.Server
	baseline *fixture.Baseline
	limiter  ratelimit.Limiter
	closers  []func()
}

type config struct {
	plan      axiom.Plan
	limiter   ratelimit.Limiter
	responses validation.Mode
	logger    *slog.Logger
	database  string
	quotas    axiom.SendQuotas
	wrap      func(Store) Store
	smtpURL   string
	noWorker  bool
	idemWait  time.Duration
	anon      ratelimit.Limit
	proxies   []netip.Prefix
	worker    func(*campaign.WorkerConfig)
	seed      *axiom.Dataset
	seedErr   error
	faults    []fault.Rule
	admin     bool
	now       func() time.Time
}

// Option configures New.
type Option func(*config)

// WithPlan puts the first account on plan (Starter by default): the
// client's own client.PlanEnterprise and its like are this type.
func WithPlan(p axiom.Plan) Option { return func(c *config) { c.plan = p } }

// WithoutRateLimit admits every request.
func WithoutRateLimit() Option { return func(c *config) { c.limiter = nil } }

// WithLimiter uses l instead of an in-memory limiter.
func WithLimiter(l ratelimit.Limiter) Option { return func(c *config) { c.limiter = l } }

// WithResponseValidation sets the response validation mode (enforce by
// default, so that a response breaking the spec fails the test as a 500).
func WithResponseValidation(m validation.Mode) Option { return func(c *config) { c.responses = m } }

// WithDatabase keeps the data in a SQLite file at path instead of memory.
func WithDatabase(path string) Option { return func(c *config) { c.database = path } }

// WithStoreWrapper lets the server see the store through wrap, to inject
// failures; Server.Store stays the store itself.
func WithStoreWrapper(wrap func(Store) Store) Option {
	return func(c *config) { c.wrap = wrap }
}

// WithSMTP delivers campaign messages to the SMTP relay at url (see
// campaign.ParseSMTPURL); by default they are only kept in the outbox.
func WithSMTP(url string) Option { return func(c *config) { c.smtpURL = url } }

// WithCampaignWorker lets the test tune the campaign worker (its poll
// interval is 20ms by default here).
func WithCampaignWorker(fn func(*campaign.WorkerConfig)) Option {
	return func(c *config) { c.worker = fn }
}

// WithSendQuotas sets the plans' daily sending quotas (axiom.DefaultSendQuotas
// by default; an empty map for none).
func WithSendQuotas(q axiom.SendQuotas) Option { return func(c *config) { c.quotas = q } }

// WithoutCampaignWorker runs no campaign worker: started campaigns stay
// sending and scheduled ones never start.
func WithoutCampaignWorker() Option { return func(c *config) { c.noWorker = true } }

// WithIdempotencyWait sets how long a retry waits for the first request
// with its Idempotency-Key before it is answered 409.
func WithIdempotencyWait(d time.Duration) Option { return func(c *config) { c.idemWait = d } }

// WithUnauthenticatedLimit sets the bucket of each client address's
// requests without a valid key (server.DefaultUnauthenticated by default).
func WithUnauthenticatedLimit(perMinute, burst int) Option {
	return func(c *config) { c.anon = ratelimit.Limit{Rate: perMinute, Burst: burst} }
}

// WithTrustedProxies trusts the X-Forwarded-For of requests from these
// addresses to name the client.
func WithTrustedProxies(p ...netip.Prefix) Option { return func(c *config) { c.proxies = p } }

// WithSeed loads d into the database at start: the data Reset restores.
func WithSeed(d axiom.Dataset) Option { return func(c *config) { c.seed = &d } }

// WithSeedFile loads the fixture file at path (YAML or JSON, the format of
// admin.openapi.yaml's Fixture) at start. A fixture with a problem fails
// the start with the file, line, entry and field of each.
func WithSeedFile(path string) Option {
	return func(c *config) {
		d, err := fixture.ReadFile(path)
		c.seed, c.seedErr = &d, err
	}
}

// WithFaults puts fault rules in force from the start (see package fault);
// Server.Faults changes them later.
func WithFaults(rules ...fault.Rule) Option {
	return func(c *config) { c.faults = append(c.faults, rules...) }
}

// WithAdmin also starts the admin endpoint (admin.openapi.yaml) on a
// listener of its own: Server.AdminURL and AdminToken.
func WithAdmin() Option { return func(c *config) { c.admin = true } }

// WithClock stamps what the API creates (leads, listings…) with now's
// times instead of the real clock's, so that a test can spread records
// over days.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sends the server's logs to l (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (an example, a program); Close
// stops it. Tests use New, which closes it when they end.
func Start(opts ...Option) (s *Server, err error) {
	cfg := config{plan: axiom.PlanStarter, limiter: ratelimit.NewMemory(), responses: validation.ResponseEnforce, database: ":memory:"}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.seedErr != nil {
		return nil, cfg.seedErr
	}
	s = &Server{limiter: cfg.limiter}
	// A failed start returns no server: close what it had started.
	started := s
	defer func() {
		if err != nil {
			started.Close()
		}
	}()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, cfg.database, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.Store = st
	s.onClose(func() { st.Close() })
	var served Store = st
	if cfg.wrap != nil {
		served = cfg.wrap(st)
	}
	// The listener comes first: its address is the public URL of links.
	hs := httptest.NewUnstartedServer(nil)
	s.onClose(hs.Close)
	s.PublicURL = "http://" + hs.Listener.Addr().String() + "/v1"
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	camps, err := campaign.NewService(campaign.Config{Store: served, PublicURL: s.PublicURL, Logger: cfg.logger, Quotas: cfg.quotas})
	if err != nil {
		return nil, err
	}
	s.Campaigns = camps
	s.Faults = fault.NewSet(doc)
	if _, err := s.Faults.Replace(cfg.faults); err != nil {
		return nil, err
	}
	h, err := server.New(server.Config{
		Leads: served, Templates: served, Properties: served, Analytics: served, Keys: served, Idempotency: served,
		Campaigns: camps, Ready: served, Now: cfg.now,
		Limiter: cfg.limiter, Responses: cfg.responses, Logger: cfg.logger, Spec: doc, IdempotencyWait: cfg.idemWait,
		Unauthenticated: cfg.anon, TrustedProxies: cfg.proxies,
		Faults: s.Faults,
	})
	if err != nil {
		return nil, err
	}
	hs.Config.Handler = h
	hs.Listener = server.Listen(hs.Listener, 0)
	hs.Config.ConnContext = server.ConnContext
	hs.Start()
	s.URL, s.http = hs.URL+"/v1", hs
	if !cfg.noWorker {
		if err := s.startWorker(camps, served, cfg); err != nil {
			return nil, err
		}
	}
	if cfg.seed != nil {
		if err := st.Seed(ctx, *cfg.seed); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
	}
	acc := axiom.NewAccount(cfg.plan, time.Now())
	if err := st.CreateAccount(ctx, acc); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	s.AccountID = acc.ID
	key, secret := axiom.NewKey(acc.ID, "servertest", false, time.Now())
	if err := st.CreateKey(ctx, key); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	s.Key = secret
	// The data as it is now, seed and first account, is what Reset
	// restores. A new database holds just that: reading it back would
	// cost a third of a start.
	if cfg.database == sqlite.Memory {
		var d axiom.Dataset
		if cfg.seed != nil {
			d.Accounts = slices.Clone(cfg.seed.Accounts)
		}
		d.Accounts = append(d.Accounts, axiom.AccountData{Account: acc, Keys: []axiom.Key{key}})
		s.baseline = fixture.NewBaseline(st, d)
	} else if s.baseline, err = fixture.Seed(ctx, st, nil); err != nil {
		return nil, err
	}
	if cfg.admin {
		if err := s.startAdmin(h, cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startAdmin serves the admin endpoint on a listener of its own.
func (s *Server) startAdmin(api *server.Server, cfg config) error {
	s.AdminToken = rand.Text()
	admin, err := server.NewAdmin(server.AdminConfig{Token: s.AdminToken, Data: s.baseline, API: api, Logger: cfg.logger})
	if err != nil {
		return err
	}
	hs := httptest.NewServer(admin)
	s.onClose(hs.Close)
	s.AdminURL = hs.URL + "/admin"
	return nil
}

// Reset restores the data the server started with (the seed, if any, and
// the first account and Key) and refills every rate-limit bucket, in one
// transaction that requests running meanwhile see whole or not at all.
// Fault rules stay as they are.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.ResetContext(context.Background()); err != nil {
		t.Fatalf("servertest: %v", err)
	}
}

// ResetContext is Reset outside a test (an example, a program).
func (s *Server) ResetContext(ctx context.Context) error {
	if _, err := s.baseline.Reset(ctx); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if m, ok := s.limiter.(interface{ Refill() }); ok {
		m.Refill()
	}
	return nil
}

// Close stops the server, its worker and its database.
func (s *Server) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func (s *Server) onClose(f func()) { s.closers = append(s.closers, f) }

// startWorker runs a campaign worker until the server closes.
func (s *Server) startWorker(camps *campaign.Service, outbox campaign.Outbox, cfg config) error {
	wc := campaign.WorkerConfig{Service: camps, Outbox: outbox, Poll: 20 * time.Millisecond, Logger: cfg.logger}
	if cfg.smtpURL != "" {
		sc, err := campaign.ParseSMTPURL(cfg.smtpURL)
		if err != nil {
			return err
		}
		if wc.Sender, err = campaign.NewSMTPSender(sc); err != nil {
			return err
		}
		wc.Timeout = sc.Timeout
	}
	if cfg.worker != nil {
		cfg.worker(&wc)
	}
	w, err := campaign.NewWorker(wc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	s.onClose(func() {
		cancel()
		<-done
	})
	return nil
}

// NewAccountKey creates a separate account on plan and returns its key.
func (s *Server) NewAccountKey(t testing.TB, plan axiom.Plan) string {
	t.Helper()
	key, _ := s.newAccount(t, plan)
	return key
}

// NewReadOnlyKey returns a read-only key of Key's account.
func (s *Server) NewReadOnlyKey(t testing.TB) string {
	t.Helper()
	return s.newKey(t, s.AccountID, true)
}

// NewKey returns another read-write key of Key's account.
func (s *Server) NewKey(t testing.TB) string {
	t.Helper()
	return s.newKey(t, s.AccountID, false)
}

// RevokeKey revokes the key whose secret is given.
func (s *Server) RevokeKey(t testing.TB, secret string) {
	t.Helper()
	ctx := context.Background()
	k, _, err := s.Store.KeyByHash(ctx, axiom.HashSecret(secret))
	if err != nil {
		t.Fatalf("servertest: find key: %v", err)
	}
	if err := s.Store.RevokeKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatalf("servertest: revoke key: %v", err)
	}
}

func (s *Server) newAccount(t testing.TB, plan axiom.Plan) (key, accountID string) {
	t.Helper()
	acc := axiom.NewAccount(plan, time.Now())
	if err := s.Store.CreateAccount(context.Background(), acc); err != nil {
		t.Fatalf("servertest: create account: %v", err)
	}
	return s.newKey(t, acc.ID, false), acc.ID
}

func (s *Server) newKey(t testing.TB, accountID string, readOnly bool) string {
	t.Helper()
	secret, err := s.createKey(accountID, readOnly)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	return secret
}

func (s *Server) createKey(accountID string, readOnly bool) (string, error) {
	k, secret := axiom.NewKey(accountID, "servertest", readOnly, time.Now())
	if err := s.Store.CreateKey(context.Background(), k); err != nil {
		return "", fmt.Errorf("create key: %w", err)
	}
	return secret, nil
}

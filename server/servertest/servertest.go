// Package servertest starts the Axiom reference server in-process for Go
// tests: a real listening server on loopback over an in-memory database.
//
//	srv := servertest.New(t)
//	c, _ := client.New(srv.Key, client.WithBaseURL(srv.URL))
package servertest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/ratelimit"
	"github.com/axiomkit/axiom/server/store"
	"github.com/axiomkit/axiom/server/store/sqlite"
	"github.com/axiomkit/axiom/server/validation"
)

// Server is a running reference server.
type Server struct {
	// URL is the API's base URL, ending in /v1.
	URL string
	// Key is an API key of a fresh account on the configured plan.
	Key string
	// AccountID is Key's account.
	AccountID string
	// Store is the server's database, for tests that look behind the API.
	Store store.Store

	http *httptest.Server
}

type config struct {
	plan      store.Plan
	limiter   server.Limiter
	responses validation.Mode
	logger    *slog.Logger
	database  string
	wrap      func(store.Store) store.Store
}

// Option configures New.
type Option func(*config)

// WithPlan puts the first account on plan (Starter by default).
func WithPlan(p store.Plan) Option { return func(c *config) { c.plan = p } }

// WithoutRateLimit admits every request.
func WithoutRateLimit() Option { return func(c *config) { c.limiter = nil } }

// WithLimiter uses l instead of an in-memory limiter.
func WithLimiter(l server.Limiter) Option { return func(c *config) { c.limiter = l } }

// WithResponseValidation sets the response validation mode (enforce by
// default, so that a response breaking the spec fails the test as a 500).
func WithResponseValidation(m validation.Mode) Option { return func(c *config) { c.responses = m } }

// WithDatabase keeps the data in a SQLite file at path instead of memory.
func WithDatabase(path string) Option { return func(c *config) { c.database = path } }

// WithStoreWrapper lets the server see the store through wrap, to inject
// failures; Server.Store stays the store itself.
func WithStoreWrapper(wrap func(store.Store) store.Store) Option {
	return func(c *config) { c.wrap = wrap }
}

// WithLogger sends the server's logs to l (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{plan: store.PlanStarter, limiter: ratelimit.NewMemory(), responses: validation.ResponseEnforce, database: ":memory:"}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, cfg.database, sqlite.Options{})
	if err != nil {
		t.Fatalf("servertest: open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var served store.Store = st
	if cfg.wrap != nil {
		served = cfg.wrap(st)
	}
	h, err := server.New(server.Config{Store: served, Limiter: cfg.limiter, Responses: cfg.responses, Logger: cfg.logger})
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	s := &Server{URL: hs.URL + "/v1", Store: st, http: hs}
	s.Key, s.AccountID = s.newAccount(t, cfg.plan)
	return s
}

// NewAccountKey creates a separate account on plan and returns its key.
func (s *Server) NewAccountKey(t testing.TB, plan store.Plan) string {
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
	k, _, err := s.Store.KeyByHash(ctx, store.HashSecret(secret))
	if err != nil {
		t.Fatalf("servertest: find key: %v", err)
	}
	if err := s.Store.RevokeKey(ctx, k.ID); err != nil {
		t.Fatalf("servertest: revoke key: %v", err)
	}
}

func (s *Server) newAccount(t testing.TB, plan store.Plan) (key, accountID string) {
	t.Helper()
	acc, err := s.Store.CreateAccount(context.Background(), plan)
	if err != nil {
		t.Fatalf("servertest: create account: %v", err)
	}
	return s.newKey(t, acc.ID, false), acc.ID
}

func (s *Server) newKey(t testing.TB, accountID string, readOnly bool) string {
	t.Helper()
	k, secret := store.NewKey(accountID, "servertest", readOnly, time.Now())
	if _, err := s.Store.CreateKey(context.Background(), k); err != nil {
		t.Fatalf("servertest: create key: %v", err)
	}
	return secret
}

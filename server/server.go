// Package server is the Axiom API's HTTP layer: the generated strict
// server interface implemented over the domain, behind one request
// pipeline (pipeline.go) that authenticates, rate-limits, claims
// Idempotency-Keys and validates every request and response against
// openapi.yaml. The stores and the campaign service it runs over are given
// to it; it knows no database.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/analytics"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/genserver"
	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server/fault"
)

// DefaultMaxBodyBytes is the largest request body accepted (the spec's 413).
const DefaultMaxBodyBytes = 1 << 20

// MaxKeyCacheTTL bounds Config.KeyCacheTTL, and so how long a revoked key
// may keep working on a server that admitted it just before.
const MaxKeyCacheTTL = time.Minute

// DefaultUnauthenticated is the bucket of each client address's requests
// without a valid key: a person retyping a key never meets it, a scanner
// does within a second.
var DefaultUnauthenticated = ratelimit.Limit{Rate: 60, Burst: 60}

// DefaultLinkPerToken and DefaultLinkPerAddress are the buckets of the
// public links of messages (pixel, tracked link, unsubscribe): per token,
// more than a person opens one message; per client address, more than a
// mail server behind one address fetches for its users in a minute.
var (
	DefaultLinkPerToken   = ratelimit.Limit{Rate: 30, Burst: 10}
	DefaultLinkPerAddress = ratelimit.Limit{Rate: 600, Burst: 120}
)

// Pinger tells whether the database answers, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is what a Server is built from. The stores and Campaigns are
// required; one database usually serves them all.
type Config struct {
	Leads       LeadStore
	Templates   TemplateStore
	Properties  PropertyStore
	Analytics   analytics.Store
	Keys        KeyStore
	Idempotency IdempotencyStore
	Campaigns   *campaign.Service
	// Now is the clock that stamps what the API creates; nil means
	// time.Now. Tests set it to create records at chosen times.
	Now func() time.Time
	// Ready answers /readyz; nil answers it ready.
	Ready Pinger
	// Limiter enforces the plans' rate limits, and the bucket of each client
	// address that sends requests without a valid key; nil means no limit
	// (load runs).
	Limiter ratelimit.Limiter
	// Unauthenticated is the bucket of a client address's requests without
	// a valid key; zero means DefaultUnauthenticated.
	Unauthenticated ratelimit.Limit
	// PublicURL is the API's base URL as clients reach it (…/v1), first in
	// the servers list of the documentation at /docs; empty: the origin of
	// each request for the docs.
	PublicURL string
	// LinkPerToken and LinkPerAddress are the buckets of the public links
	// of messages, per token and per client address; zero means
	// DefaultLinkPerToken, DefaultLinkPerAddress.
	LinkPerToken, LinkPerAddress ratelimit.Limit
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// address; empty trusts none, and the address is the connection's.
	TrustedProxies []netip.Prefix
	// Responses says what happens to a response that breaks the spec.
	Responses validation.Mode
	// SkipRequestValidation lets requests reach the handlers unvalidated:
	// only for load runs that measure what validation costs.
	SkipRequestValidation bool
	// Spec is the API description, as LoadSpec returns it; nil loads it.
	// Servers only read it, so one can serve many: tests starting many
	// servers save its parsing, most of a start.
	Spec *openapi3.T
	// KeyCacheTTL is how long a key that authenticated is trusted without
	// reading the store again; a key revoked meanwhile keeps working for up
	// to this long. 0 reads the store on every request; at most
	// MaxKeyCacheTTL.
	KeyCacheTTL time.Duration
	// IdempotencyWait is how long a retry waits for the first request with
	// its Idempotency-Key before it is answered 409; 0 means
	// DefaultIdempotencyWait. IdempotencyStale is how long an unanswered
	// claim is honoured; 0 means DefaultIdempotencyStale.
	IdempotencyWait, IdempotencyStale time.Duration
	// Faults, when set, are the fault rules requests are checked against
	// (see package fault); nil leaves the fault stage out of the pipeline.
	Faults *fault.Set
	// Logger receives access and error logs; nil discards them.
	Logger       *slog.Logger
	MaxBodyBytes int64 // 0 means DefaultMaxBodyBytes
}

// Server serves the API; it is an http.Handler.
type Server struct {
	echo      *echo.Echo
	keys      KeyStore
	ready     Pinger
	limit     ratelimit.Limiter
	anonymous ratelimit.Limit
	linkToken ratelimit.Limit // per token of a public link
	linkAddr  ratelimit.Limit // per client address on the public links
	validator *validation.Validator
	log       *slog.Logger
	idem      *idempotency
	keyCache  *keyCache // nil: none
	faults    *fault.Set
}

// New builds a Server from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Leads == nil || cfg.Templates == nil || cfg.Properties == nil || cfg.Analytics == nil || cfg.Keys == nil ||
		cfg.Idempotency == nil || cfg.Campaigns == nil {
		return nil, errors.New("server: Config.Leads, Templates, Properties, Analytics, Keys, Idempotency and Campaigns are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	stats, err := analytics.New(cfg.Analytics)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.NewUnlimited()
	}
	if cfg.Unauthenticated == (ratelimit.Limit{}) {
		cfg.Unauthenticated = DefaultUnauthenticated
	}
	if err := cfg.Unauthenticated.Validate(); err != nil {
		return nil, fmt.Errorf("server: Config.Unauthenticated: %w", err)
	}
	if cfg.KeyCacheTTL > MaxKeyCacheTTL {
		return nil, fmt.Errorf("server: Config.KeyCacheTTL %s is longer than %s: a revoked key would keep working that long", cfg.KeyCacheTTL, MaxKeyCacheTTL)
	}
	for _, l := range []struct {
		l   *ratelimit.Limit
		def ratelimit.Limit
	}{{&cfg.LinkPerToken, DefaultLinkPerToken}, {&cfg.LinkPerAddress, DefaultLinkPerAddress}} {
		if *l.l == (ratelimit.Limit{}) {
			*l.l = l.def
		}
		if err := l.l.Validate(); err != nil {
			return nil, fmt.Errorf("server: Config.LinkPerToken or LinkPerAddress: %w", err)
		}
	}
	if cfg.IdempotencyWait <= 0 {
		cfg.IdempotencyWait = DefaultIdempotencyWait
	}
	if cfg.IdempotencyStale <= 0 {
		cfg.IdempotencyStale = DefaultIdempotencyStale
	}
	spec := cfg.Spec
	if spec == nil {
		var err error
		if spec, err = LoadSpec(); err != nil {
			return nil, err
		}
	}
	validator, err := validation.New(spec, validation.Options{
		Responses: cfg.Responses, SkipRequests: cfg.SkipRequestValidation,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		keys: cfg.Keys, ready: cfg.Ready, limit: cfg.Limiter, anonymous: cfg.Unauthenticated,
		linkToken: cfg.LinkPerToken, linkAddr: cfg.LinkPerAddress, validator: validator, log: cfg.Logger,
		idem: &idempotency{store: cfg.Idempotency, log: cfg.Logger, wait: cfg.IdempotencyWait,
			stale: cfg.IdempotencyStale, now: time.Now},
		keyCache: newKeyCache(cfg.KeyCacheTTL),
		faults:   cfg.Faults,
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientAddress(cfg.TrustedProxies)
	e.Use(withRequestID, s.withAccessLog, s.withRecover, withSecurityHeaders, refuseAmbiguousFraming, withBodyLimit(cfg.MaxBodyBytes))

	// The pipeline runs per route, so that an unknown path is a 404 and a
	// wrong method a 405 whatever key is sent. The public operations (the
	// links in campaign messages) take no key: their token is the credential.
	mw := []echo.MiddlewareFunc{s.respond, s.authenticate, s.rateLimit}
	if cfg.Faults != nil {
		mw = append(mw, s.injectFaults)
	}
	api := routeMiddleware{e: e,
		mw:       append(mw, authorize, readBody, s.idem.middleware, s.validate),
		public:   publicRoutes(spec, "/v1"),
		publicMW: []echo.MiddlewareFunc{s.respond, s.throttleLinks, readBody, s.validate},
	}
	h := &handlers{leads: cfg.Leads, templates: cfg.Templates, properties: cfg.Properties, campaigns: cfg.Campaigns,
		analytics: stats, now: cfg.Now}
	genserver.RegisterHandlersWithBaseURL(api, genserver.NewStrictHandler(h, nil), "/v1")

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", axiom.OpenAPI) })
	docs := docsHandler()
	e.GET(docsSpecPath, docsSpec(cfg.PublicURL))
	e.GET("/docs", echo.WrapHandler(docs))
	e.GET("/docs/*", echo.WrapHandler(docs))
	s.echo = e
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w = headWriter{w} // net/http drops it too, but not every caller is net/http
	}
	s.echo.ServeHTTP(w, r)
}

// headWriter answers HEAD with the GET's status and headers and no body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap lets http.ResponseController reach the connection.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) readyz(c echo.Context) error {
	if s.ready != nil {
		if err := s.ready.Ping(c.Request().Context()); err != nil {
			s.log.LogAttrs(c.Request().Context(), slog.LevelError, "readiness check failed", slog.Any("error", err))
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// routeMiddleware registers routes on Echo with the API's middleware in
// front of each: Echo's groups would also route unknown paths through it.
type routeMiddleware struct {
	e  *echo.Echo
	mw []echo.MiddlewareFunc
	// public routes get publicMW instead of mw.
	public   map[string]bool
	publicMW []echo.MiddlewareFunc
}

func (r routeMiddleware) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	mw := r.mw
	if r.public[path] {
		mw = r.publicMW
	}
	return r.e.Add(method, path, h, append(mw[:len(mw):len(mw)], m...)...)
}

func (r routeMiddleware) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m)
}
func (r routeMiddleware) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m)
}

// GET also answers HEAD on the same path, as HTTP asks of a general-purpose
// server: GET's status and headers, without the body. On the public links
// of messages a HEAD is marked, so that it counts no open and no click.
func (r routeMiddleware) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	if r.public[p] {
		r.add(http.MethodHead, p, h, append([]echo.MiddlewareFunc{markHead}, m...))
	} else {
		r.add(http.MethodHead, p, h, m)
	}
	return r.add(http.MethodGet, p, h, m)
}
func (r routeMiddleware) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m)
}
func (r routeMiddleware) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m)
}
func (r routeMiddleware) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m)
}
func (r routeMiddleware) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m)
}
func (r routeMiddleware) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m)
}
func (r routeMiddleware) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m)
}

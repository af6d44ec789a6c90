// Package client is the Go client of the Axiom API.
//
// It is built on the code generated from openapi.yaml (package gen): the
// parameters and results of its methods are the generated models, aliased
// here ([LeadCreate], [ListLeadsParams], [LeadTypeClient]…) so that this one
// import serves, with [Ptr] for their optional fields; the generated client
// stays reachable through [Client.Raw] for anything this package does not
// wrap. A program importing it links neither the server's framework nor
// kin-openapi; response validation is the opt-in package client/validate. What it adds is the behaviour a program needs
// around those calls:
//
//   - authentication, with a key that is never sent over plain HTTP to a
//     host other than loopback (unless [WithInsecureHTTP] says so), never
//     sent to another host a redirect points to, and never written into an
//     error or a log line;
//   - retries below the generated layer, so every call gets them: a 429
//     waits for Retry-After, a 5xx or a network error backs off
//     exponentially with full jitter, and a POST is retried only with an
//     Idempotency-Key, which the client adds to every POST;
//   - optional proactive rate limiting ([WithPlanRateLimit]) that keeps a
//     bulk job under the plan's limit instead of running into 429s;
//   - one error type, [*Error], matched with errors.Is against
//     [ErrNotFound], [ErrDuplicateEntry], [ErrRateLimited] and the others;
//     a cancelled context returns the context's own error, at once;
//   - the rate-limit state of every result ([Response.RateLimit]);
//   - lazy auto-pagination ([LeadService.All] and its like);
//   - optional validation of every response against the API's OpenAPI
//     description ([WithResponseValidator] with package client/validate),
//     which turns the client into a drift detector against the live service.
//
// # Results
//
// Every method returns its result with the [Response] it came from
// embedded, so that the data and the rate-limit state are one value:
//
//	lead, err := c.Leads.Get(ctx, "cnt_12345")
//	fmt.Println(lead.Name, lead.RateLimit.Remaining)
//
// Delete, which has no body, returns the *Response alone. The optional
// trailing arguments of every method are the generated client's request
// editors, such as [IdempotencyKey].
package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/axiomkit/axiom/gen"
)

// DefaultBaseURL is the production API.
const DefaultBaseURL = "https://api.axiom-console.com/v1"

// The two headers the API accepts the key in.
const (
	HeaderAPIKey      = "X-API-Key"
	HeaderAxiomAPIKey = "X-Axiom-API-Key"
)

// defaultTimeout bounds one attempt when the caller brings no *http.Client:
// a hung connection then fails, and is retried, instead of hanging forever.
const defaultTimeout = 60 * time.Second

// Client is an Axiom API client. It is safe for concurrent use.
type Client struct {
	// Leads are the account's contacts.
	Leads *LeadService
	// Templates are the account's email templates.
	Templates *TemplateService
	// Campaigns are the account's email campaigns.
	Campaigns *CampaignService
	// Suppressions are the addresses the account's campaigns never mail.
	Suppressions *SuppressionService
	// Properties are the account's real-estate listings and their links to leads.
	Properties *PropertyService
	// Analytics are the aggregates over the account's leads, campaigns and listings.
	Analytics *AnalyticsService

	raw *gen.ClientWithResponses
	key string
}

type config struct {
	baseURL       string
	httpClient    *http.Client
	userAgent     string
	retry         RetryPolicy
	logger        *slog.Logger
	header        string
	limiter       *pacer
	validator     ResponseValidator
	allowInsecure bool
	autoIdemKey   bool
	sleep         func(context.Context, time.Duration) error
}

// Option configures a Client.
type Option func(*config) error

// WithBaseURL sets the API's base URL, ending in /v1 (DefaultBaseURL by
// default), for example the reference server's http://localhost:8080/v1.
// New refuses a URL whose path does not end in /v1.
func WithBaseURL(u string) Option {
	return func(c *config) error { c.baseURL = u; return nil }
}

// WithHTTPClient sends requests with hc. Its Transport, Timeout, Jar and
// CheckRedirect are kept; the client wraps the Transport to add the key.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("axiom: WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent replaces the User-Agent header, DefaultUserAgent() by
// default. To keep naming the library, append it:
// WithUserAgent("myapp/1.2 " + client.DefaultUserAgent()).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("axiom: WithUserAgent: empty or multi-line User-Agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy(). RetryPolicy{} disables
// retries; zero durations take their default values.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxRetries < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
			return errors.New("axiom: WithRetryPolicy: negative value")
		}
		c.retry = p.withDefaults()
		return nil
	}
}

// WithLogger logs retries at debug level to l (nothing is logged by default).
// Log lines carry the method, path, attempt and reason, never a header.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("axiom: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithAPIKeyHeader sends the key in header name instead of HeaderAPIKey;
// the API also accepts HeaderAxiomAPIKey.
func WithAPIKeyHeader(name string) Option {
	return func(c *config) error {
		if !validHeaderName(name) {
			return fmt.Errorf("axiom: WithAPIKeyHeader: %q is not a header name", name)
		}
		c.header = http.CanonicalHeaderKey(name)
		return nil
	}
}

// WithRateLimit paces requests to requestsPerMinute with bursts of burst,
// waiting before a request rather than receiving a 429 for it. The local
// bucket also drops to the X-RateLimit-Remaining of each response, so that
// requests made elsewhere with the same account are accounted for. Pacing
// is per Client: share one Client between goroutines.
func WithRateLimit(requestsPerMinute, burst int) Option {
	return func(c *config) error {
		if requestsPerMinute <= 0 || burst <= 0 {
			return fmt.Errorf("axiom: WithRateLimit: rate %d/min and burst %d must be positive", requestsPerMinute, burst)
		}
		c.limiter = newPacer(requestsPerMinute, burst)
		return nil
	}
}

// WithPlanRateLimit is WithRateLimit with the rate and burst of plan p.
func WithPlanRateLimit(p Plan) Option {
	return func(c *config) error {
		if !p.Valid() {
			return fmt.Errorf("axiom: WithPlanRateLimit: unknown plan %q", string(p))
		}
		l := p.RateLimit()
		return WithRateLimit(l.Rate, l.Burst)(c)
	}
}

// WithInsecureHTTP allows sending the key over plain HTTP to a host other
// than loopback. Without it New refuses such a base URL, and a redirect to
// one fails with ErrInsecureTransport.
func WithInsecureHTTP() Option {
	return func(c *config) error { c.allowInsecure = true; return nil }
}

// WithAutoIdempotencyKey says whether the client adds a random
// Idempotency-Key to every POST that has none (true by default). Without a
// key a POST is retried only when it provably never reached the server.
func WithAutoIdempotencyKey(enabled bool) Option {
	return func(c *config) error { c.autoIdemKey = enabled; return nil }
}

// New returns a client authenticating with apiKey.
func New(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("axiom: empty API key")
	}
	if !validHeaderValue(apiKey) {
		// The key itself is left out of the message on purpose.
		return nil, errors.New("axiom: the API key holds characters a header cannot carry")
	}
	cfg := config{
		baseURL:     DefaultBaseURL,
		userAgent:   DefaultUserAgent(),
		retry:       DefaultRetryPolicy(),
		logger:      slog.New(slog.DiscardHandler),
		header:      HeaderAPIKey,
		autoIdemKey: true,
		sleep:       sleepContext,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL, cfg.allowInsecure)
	if err != nil {
		return nil, err
	}

	hc := &http.Client{Timeout: defaultTimeout}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
	}
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	hc.Transport = &authTransport{
		base:          inner,
		header:        cfg.header,
		key:           apiKey,
		host:          strings.ToLower(base.Hostname()),
		allowInsecure: cfg.allowInsecure,
	}

	d := &doer{
		http:        hc,
		policy:      cfg.retry,
		limiter:     cfg.limiter,
		logger:      cfg.logger,
		userAgent:   cfg.userAgent,
		autoIdemKey: cfg.autoIdemKey,
		sleep:       cfg.sleep,
		key:         apiKey,
		newKey:      rand.Text,
	}
	if cfg.validator != nil {
		d.validator, d.basePath = cfg.validator, base.EscapedPath()
	}
	raw, err := gen.NewClientWithResponses(base.String(), gen.WithHTTPClient(d))
	if err != nil {
		return nil, fmt.Errorf("axiom: %w", err)
	}
	c := &Client{raw: raw, key: apiKey}
	c.Leads = &LeadService{c: c}
	c.Templates = &TemplateService{c: c}
	c.Campaigns = &CampaignService{c: c}
	c.Suppressions = &SuppressionService{c: c}
	c.Properties = &PropertyService{c: c}
	c.Analytics = &AnalyticsService{c: c}
	return c, nil
}

// Raw returns the generated client, for operations this package does not
// wrap. It shares this client's key, retries, rate limiting and validation;
// its results are the generated response types.
func (c *Client) Raw() *gen.ClientWithResponses { return c.raw }

// parseBaseURL checks that u is absolute, and secure unless it is loopback
// or allowInsecure is set.
func parseBaseURL(u string, allowInsecure bool) (*url.URL, error) {
	base, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("axiom: base URL: %w", err)
	}
	if (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("axiom: base URL %q: want http(s)://host/path", base.Redacted())
	}
	if base.User != nil {
		return nil, errors.New("axiom: base URL: credentials in the URL are not supported; pass the key to New")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("axiom: base URL %q: a query or fragment is not supported", base.Redacted())
	}
	if base.Scheme == "http" && !allowInsecure && !isLoopback(base.Hostname()) {
		return nil, fmt.Errorf("%w: base URL %s (use https, or WithInsecureHTTP)", ErrInsecureTransport, base.Redacted())
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	// Every operation is under /v1: without it the first call would be a 404.
	if path.Base(base.Path) != apiVersion {
		want := base.Scheme + "://" + base.Host + base.Path + "/" + apiVersion
		return nil, fmt.Errorf("axiom: base URL %s does not end in /%s, the API's version (did you mean %s?)", base.Redacted(), apiVersion, want)
	}
	return base, nil
}

// apiVersion is the last segment of every base URL of the API.
const apiVersion = "v1"

// isLoopback reports whether host names this machine, where plain HTTP
// never leaves it.
func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		// RFC 9110 token characters.
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r > 0x7e {
			return false
		}
	}
	return true
}

// Package proxy is a validating proxy of the Axiom API: it forwards every
// request, unchanged, to another implementation of the API (a staging
// deployment of the real one, or any server), and checks each request and
// response against openapi.yaml with the validator the reference server
// uses (internal/validation). It never changes what passes through: it
// only logs each violation as a structured line and counts it, so that a
// real deployment's traffic can be checked against the contract.
//
// Keys are never logged: no header is, and no message of the validator
// quotes a value sent.
package proxy

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/validation"
)

// Config is what a Proxy is built from.
type Config struct {
	// Upstream is the base URL of the API to forward to, ending in /v1 as
	// a client's would ("https://staging.example.com/v1").
	Upstream *url.URL
	// Spec is the API description; nil loads openapi.yaml as written, so
	// that operations are named as there ("listLeads").
	Spec *openapi3.T
	// Transport sends the forwarded requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives a line per violation (warn) and per request (debug);
	// nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds the bodies read to validate; larger ones pass
	// unchecked. 0 means 10 MiB.
	MaxBodyBytes int64
}

// Proxy is the validating proxy, an http.Handler that serves the API under
// the spec's base path (/v1). It is safe for concurrent use.
type Proxy struct {
	rp        *httputil.ReverseProxy
	validator *validation.Validator
	log       *slog.Logger
	base      string // the spec's base path, "/v1"
	maxBody   int64

	mu         sync.Mutex
	requests   int
	faulty     int // requests with at least one violation
	violations map[Violation]int
}

// Violation is one kind of breach of the contract: of a request or a
// response, of one operation.
type Violation struct {
	Direction string // "request" or "response"
	Operation string // operationId, or "" when no operation matches
	Status    int    // the response's status; 0 for a request
	Problem   string
}

// Summary counts what the proxy saw.
type Summary struct {
	Requests int // requests forwarded
	Faulty   int // requests whose request or response broke the contract
	// Violations counts each kind of violation, most frequent first.
	Violations []Count
}

// Count is how often one kind of violation was seen.
type Count struct {
	Violation
	N int
}

// Total is the number of violations of every kind.
func (s Summary) Total() int {
	n := 0
	for _, c := range s.Violations {
		n += c.N
	}
	return n
}

// New builds a proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == nil || cfg.Upstream.Scheme == "" || cfg.Upstream.Host == "" {
		return nil, errors.New("proxy: the upstream must be an absolute URL")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	if cfg.Spec == nil {
		doc, err := openapi3.NewLoader().LoadFromData(axiom.OpenAPI)
		if err != nil {
			return nil, fmt.Errorf("proxy: openapi.yaml: %w", err)
		}
		cfg.Spec = doc
	}
	v, err := validation.New(cfg.Spec, validation.Options{Responses: validation.ResponseLog})
	if err != nil {
		return nil, err
	}
	p := &Proxy{validator: v, log: cfg.Logger, maxBody: cfg.MaxBodyBytes, violations: map[Violation]int{}}
	if len(cfg.Spec.Servers) > 0 {
		if u, err := url.Parse(cfg.Spec.Servers[0].URL); err == nil {
			p.base = strings.TrimRight(u.Path, "/")
		}
	}
	upstream := *cfg.Upstream
	upstream.Path = strings.TrimRight(upstream.Path, "/")
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, p.base)
			pr.Out.URL.RawPath = ""
			pr.SetURL(&upstream)
		},
		Transport:      cfg.Transport,
		ModifyResponse: p.checkResponse,
		ErrorHandler:   p.upstreamFailed,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// exchange is what the proxy keeps of one request until its response.
type exchange struct {
	op     *validation.Operation
	faulty bool
}

type exchangeKey struct{}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{}
	body, whole, err := readBody(r, p.maxBody)
	if err != nil {
		p.log.LogAttrs(r.Context(), slog.LevelWarn, "reading the request body", slog.String("path", r.URL.Path), slog.Any("error", err))
		http.Error(w, "the request body could not be read", http.StatusBadRequest)
		return
	}
	op, params, err := p.validator.FindRequest(r)
	switch {
	case err != nil:
		p.log.LogAttrs(r.Context(), slog.LevelError, "routing by the spec", slog.Any("error", err))
	case op == nil:
		p.violation(r.Context(), x, Violation{Direction: "request", Problem: "no operation of the spec has this method and path"}, r.Method, r.URL.Path)
	default:
		x.op = op
		if whole {
			if verr := p.validator.ValidateHTTPRequest(r, op, params, body); verr != nil {
				p.violation(r.Context(), x, Violation{Direction: "request", Operation: op.ID(), Problem: problem(verr)}, r.Method, r.URL.Path)
			}
			// Validation may have read it: the upstream gets it whole.
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	p.mu.Lock()
	p.requests++
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
}

// checkResponse validates the upstream's response, which it leaves as it is.
func (p *Proxy) checkResponse(resp *http.Response) error {
	r := resp.Request
	x, _ := r.Context().Value(exchangeKey{}).(*exchange)
	if x == nil || x.op == nil {
		return nil
	}
	var body []byte
	if resp.Body != nil {
		data, err := io.ReadAll(io.LimitReader(resp.Body, p.maxBody+1))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the upstream's response: %w", err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		if int64(len(data)) > p.maxBody {
			return nil // too large to check; sent whole all the same
		}
		body = data
	}
	if verr := p.validator.CheckResponse(x.op, r.Method, resp.StatusCode, resp.Header, body); verr != nil {
		prob := verr.Error()
		if re, ok := errors.AsType[*validation.ResponseError](verr); ok {
			prob = re.Problem
		}
		p.violation(r.Context(), x, Violation{Direction: "response", Operation: x.op.ID(), Status: resp.StatusCode, Problem: prob},
			r.Method, r.URL.Path, slog.String("request_id", resp.Header.Get("X-Request-Id")))
	}
	return nil
}

// upstreamFailed answers a request the upstream did not: 502, in the
// API's envelope.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	p.log.LogAttrs(r.Context(), slog.LevelError, "the upstream did not answer", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Any("error", err))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":"The proxy's upstream did not answer","documentation_url":%q}}`+"\n",
		axiom.CodeInternal, axiom.CodeInternal.DocumentationURL())
}

// violation counts v and logs it: one structured line, never a header.
func (p *Proxy) violation(ctx context.Context, x *exchange, v Violation, method, path string, attrs ...slog.Attr) {
	p.mu.Lock()
	p.violations[v]++
	if !x.faulty {
		x.faulty = true
		p.faulty++
	}
	p.mu.Unlock()
	attrs = append([]slog.Attr{
		slog.String("direction", v.Direction), slog.String("operation", v.Operation),
		slog.String("method", method), slog.String("path", path), slog.String("problem", v.Problem),
	}, attrs...)
	if v.Status != 0 {
		attrs = append(attrs, slog.Int("status", v.Status))
	}
	p.log.LogAttrs(ctx, slog.LevelWarn, "contract violation", attrs...)
}

// Summary counts what the proxy has seen so far.
func (p *Proxy) Summary() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Summary{Requests: p.requests, Faulty: p.faulty}
	for v, n := range p.violations {
		s.Violations = append(s.Violations, Count{Violation: v, N: n})
	}
	slices.SortFunc(s.Violations, func(a, b Count) int {
		return cmp.Or(b.N-a.N, cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Direction, b.Direction),
			cmp.Compare(a.Status, b.Status), cmp.Compare(a.Problem, b.Problem))
	})
	return s
}

// WriteSummary writes s for people: the counts, then each kind of
// violation.
func WriteSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "%d requests, %d breaking the contract, %d violations\n", s.Requests, s.Faulty, s.Total())
	for _, c := range s.Violations {
		what := c.Direction
		if c.Status != 0 {
			what = fmt.Sprintf("%s %d", c.Direction, c.Status)
		}
		op := cmp.Or(c.Operation, "(no operation)")
		fmt.Fprintf(w, "%6d  %s %s: %s\n", c.N, op, what, c.Problem)
	}
}

// readBody reads the request body, up to max bytes, and puts it back; whole
// is false when it was larger, and then only its start was read.
func readBody(r *http.Request, max int64) (body []byte, whole bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > max {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		return nil, false, nil
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// problem is what a request's validation found wrong: the message the
// server would have answered with.
func problem(err error) string {
	if e, ok := errors.AsType[*axiom.Error](err); ok {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return err.Error()
}

package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/axiomkit/axiom/gen"
)

func TestBaseURLGuard(t *testing.T) {
	tests := []struct {
		url     string
		opts    []Option
		wantErr error  // nil for accepted; errAny for any error
		wantIn  string // part of the error's message
	}{
		{url: "http://localhost:8080", wantErr: errAny, wantIn: "did you mean http://localhost:8080/v1?"},
		{url: "http://localhost:8080/", wantErr: errAny, wantIn: "does not end in /v1"},
		{url: "https://api.axiom-console.com/v2", wantErr: errAny, wantIn: "does not end in /v1"},
		{url: "https://api.axiom-console.com/v1/leads", wantErr: errAny, wantIn: "does not end in /v1"},
		{url: "https://gateway.example.com/axiom/v1/"},
		{url: "https://api.axiom-console.com/v1"},
		{url: "http://localhost:8080/v1"},
		{url: "http://127.0.0.1:8080/v1"},
		{url: "http://127.3.4.5/v1"},
		{url: "http://[::1]:8080/v1"},
		{url: "http://api.localhost/v1"},
		{url: "http://api.axiom-console.com/v1", wantErr: ErrInsecureTransport},
		{url: "http://10.0.0.7:8080/v1", wantErr: ErrInsecureTransport},
		{url: "http://localhost.example.com/v1", wantErr: ErrInsecureTransport},
		{url: "http://api.axiom-console.com/v1", opts: []Option{WithInsecureHTTP()}},
		{url: "ftp://api.axiom-console.com/v1", wantErr: errAny},
		{url: "api.axiom-console.com/v1", wantErr: errAny},
		{url: "https://user:pass@api.axiom-console.com/v1", wantErr: errAny},
	}
	for _, tt := range tests {
		_, err := New(testKey, append([]Option{WithBaseURL(tt.url)}, tt.opts...)...)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("New(%s): %v", tt.url, err)
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("New(%s) error = %v, want %v", tt.url, err, tt.wantErr)
		}
		if tt.wantIn != "" && (err == nil || !strings.Contains(err.Error(), tt.wantIn)) {
			t.Errorf("New(%s) error = %v, want it to say %q", tt.url, err, tt.wantIn)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("New(%s) error holds the key", tt.url)
		}
	}
}

var errAny = errors.New("any error")

// hostRouter dials every name to a local listener chosen by the port, so
// that tests can use real, non-loopback host names.
func hostRouter(routes map[string]string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			var d net.Dialer
			return d.DialContext(ctx, network, routes[port])
		},
		// The test certificate names example.com, not the other hosts.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
}

type keyLog struct {
	mu   sync.Mutex
	seen []string // host + key of each request received
}

func (k *keyLog) handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.seen = append(k.seen, r.Host+" key="+r.Header.Get(HeaderAPIKey))
		k.mu.Unlock()
		next(w, r)
	}
}

func (k *keyLog) all() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.seen...)
}

// TestKeyGuardOnRedirects: a redirect from the HTTPS API to plain HTTP on
// its own host is refused before anything is sent, and a redirect to
// another host is followed without the key.
func TestKeyGuardOnRedirects(t *testing.T) {
	log := &keyLog{}
	plain := httptest.NewServer(log.handler(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_1")})
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(log.handler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/leads/cnt_down":
			http.Redirect(w, r, "http://api.example.com:80/v1/leads/cnt_1", http.StatusFound)
		case "/v1/leads/cnt_away":
			http.Redirect(w, r, "https://cdn.example.net:443/v1/leads/cnt_1", http.StatusFound)
		default:
			writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_1")})
		}
	}))
	defer secure.Close()

	hc := &http.Client{Transport: hostRouter(map[string]string{
		"443": secure.Listener.Addr().String(),
		"80":  plain.Listener.Addr().String(),
	})}
	c, err := New(testKey, WithBaseURL("https://api.example.com/v1"), WithHTTPClient(hc), WithRetryPolicy(RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if _, err := c.Leads.Get(ctx, "cnt_1"); err != nil {
		t.Fatalf("plain call over HTTPS: %v", err)
	}
	_, err = c.Leads.Get(ctx, "cnt_down")
	if !errors.Is(err, ErrInsecureTransport) {
		t.Errorf("redirect to plain HTTP: error = %v, want ErrInsecureTransport", err)
	}
	if _, err := c.Leads.Get(ctx, "cnt_away"); err != nil {
		t.Fatalf("redirect to another host: %v", err)
	}
	want := []string{
		"api.example.com key=" + testKey,
		"api.example.com key=" + testKey, // cnt_down; the plain hop never happens
		"api.example.com key=" + testKey, // cnt_away
		"cdn.example.net:443 key=",       // followed without the key
	}
	if got := log.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestInsecureHTTPOption sends the key over plain HTTP to a real,
// non-loopback name only when asked to.
func TestInsecureHTTPOption(t *testing.T) {
	log := &keyLog{}
	srv := httptest.NewServer(log.handler(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_1")})
	}))
	defer srv.Close()
	hc := &http.Client{Transport: hostRouter(map[string]string{"8080": srv.Listener.Addr().String()})}

	if _, err := New(testKey, WithBaseURL("http://api.example.com:8080/v1"), WithHTTPClient(hc)); !errors.Is(err, ErrInsecureTransport) {
		t.Fatalf("New without WithInsecureHTTP: %v, want ErrInsecureTransport", err)
	}
	c, err := New(testKey, WithBaseURL("http://api.example.com:8080/v1"), WithHTTPClient(hc), WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	if got := log.all(); len(got) != 1 || got[0] != "api.example.com:8080 key="+testKey {
		t.Errorf("requests received: %q", got)
	}
}

func TestAPIKeyHeaderOption(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { okLead(w, r) })
	c, _ := newTestClient(t, srv, WithAPIKeyHeader("x-axiom-api-key"))
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	h := srv.requests()[0].Header
	if h.Get(HeaderAxiomAPIKey) != testKey || h.Get(HeaderAPIKey) != "" {
		t.Errorf("headers: %s=%q %s=%q; want the key in %s only", HeaderAxiomAPIKey, h.Get(HeaderAxiomAPIKey), HeaderAPIKey, h.Get(HeaderAPIKey), HeaderAxiomAPIKey)
	}
	for _, bad := range []string{"", "X API Key", "X-Key:"} {
		if _, err := New(testKey, WithAPIKeyHeader(bad)); err == nil {
			t.Errorf("WithAPIKeyHeader(%q) accepted", bad)
		}
	}
}

func TestUserAgentOption(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { okLead(w, r) })
	c, _ := newTestClient(t, srv, WithUserAgent("importer/2.0 "+DefaultUserAgent()))
	if _, err := c.Leads.Get(context.Background(), "cnt_1"); err != nil {
		t.Fatal(err)
	}
	if ua := srv.requests()[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "importer/2.0 axiom-go/") {
		t.Errorf("User-Agent = %q", ua)
	}
	if _, err := New(testKey, WithUserAgent("a\r\nX-Evil: 1")); err == nil {
		t.Error("a multi-line User-Agent was accepted")
	}
}

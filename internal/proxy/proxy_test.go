package proxy_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/faults"
	"github.com/axiomkit/axiom/internal/proxy"
	"github.com/axiomkit/axiom/server/servertest"
)

// syncBuffer is a log destination safe for the proxy's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setup runs the reference server behind the contract suite's faults, and
// the validating proxy in front: client → proxy → faults → server.
func setup(t *testing.T, fs ...faults.Fault) (*servertest.Server, *proxy.Proxy, string, *syncBuffer) {
	t.Helper()
	srv := servertest.New(t)
	u, _ := url.Parse(srv.URL)
	upstream := httptest.NewServer(faults.Chain(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}), fs...))
	t.Cleanup(upstream.Close)
	logs := &syncBuffer{}
	base, _ := url.Parse(upstream.URL + "/v1")
	p, err := proxy.New(proxy.Config{Upstream: base, Logger: slogJSON(logs)})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	return srv, p, front.URL + "/v1", logs
}

// traffic is a client's work through the proxy: every lead and template
// operation, and a campaign's.
func traffic(t *testing.T, baseURL, key string) {
	t.Helper()
	ctx := context.Background()
	c, err := client.New(key, client.WithBaseURL(baseURL), client.WithRetryPolicy(client.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	lead, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane Doe", Email: "jane@example.com", Tags: &[]string{"buyer"}})
	if err != nil {
		return // a fault may break the client's own checks; the proxy still saw it
	}
	c.Leads.Get(ctx, lead.ID)
	c.Leads.List(ctx, &gen.ListLeadsParams{Search: new("jane")})
	c.Leads.Update(ctx, lead.ID, gen.LeadUpdate{Company: new("Acme")})
	tmpl, err := c.Templates.Create(ctx, gen.TemplateCreate{Name: "Welcome", Subject: "Hi {{first_name}}", Content: "<p>Hi</p>"})
	if err == nil {
		c.Templates.Get(ctx, tmpl.Slug)
		c.Templates.List(ctx, nil)
		camp, err := c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "Spring", Template: tmpl.Slug})
		if err == nil {
			c.Campaigns.Get(ctx, camp.ID)
			c.Campaigns.Cancel(ctx, camp.ID)
		}
	}
	c.Leads.Delete(ctx, lead.ID)
	c.Leads.Get(ctx, lead.ID) // a 404
}

func TestConformingServerHasNoViolation(t *testing.T) {
	srv, p, base, logs := setup(t)
	traffic(t, base, srv.Key)
	s := p.Summary()
	if s.Requests < 12 {
		t.Errorf("the proxy forwarded %d requests; want the traffic's 12 or more", s.Requests)
	}
	if s.Total() != 0 {
		var b strings.Builder
		proxy.WriteSummary(&b, s)
		t.Errorf("violations of a conforming server:\n%s", &b)
	}
	if strings.Contains(logs.String(), srv.Key) {
		t.Error("the proxy logged the API key")
	}
}

func TestFaultsAreReported(t *testing.T) {
	tests := []struct {
		name      string
		fault     faults.Fault
		operation string
		problem   string
	}{
		{"wrong type", faults.WrongType(faults.GetLead, "name", 42), "getLead", "the body field 'data.name' must be a string"},
		{"missing field", faults.RemoveField(faults.GetLead, "email"), "getLead", "the body field 'data.email' is required"},
		{"undocumented status", faults.WrongStatus(faults.CreateLead, 201, 200), "createLead", "the status is not documented"},
		{"missing rate-limit header", faults.DropHeader(faults.ListLeads, "X-RateLimit-Remaining"), "listLeads", "the header X-Ratelimit-Remaining is missing"},
		{"error not in the envelope", faults.PlainTextErrors(), "getLead", `Content-Type "text/plain; charset=utf-8" is not documented`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, p, base, logs := setup(t, tt.fault)
			traffic(t, base, srv.Key)
			s := p.Summary()
			found := false
			for _, c := range s.Violations {
				found = found || (c.Operation == tt.operation && c.Direction == "response" && strings.Contains(c.Problem, tt.problem))
			}
			if !found {
				var b strings.Builder
				proxy.WriteSummary(&b, s)
				t.Errorf("no %s violation of %s %q in:\n%s", "response", tt.operation, tt.problem, &b)
			}
			if !strings.Contains(logs.String(), `"msg":"contract violation","direction":"response","operation":"`+tt.operation+`"`) {
				t.Errorf("no structured line of the violation in the log:\n%s", logs)
			}
			if strings.Contains(logs.String(), srv.Key) {
				t.Error("the proxy logged the API key")
			}
		})
	}
}

// Requests are checked too, and forwarded unchanged all the same.
func TestRequestViolations(t *testing.T) {
	srv, p, base, _ := setup(t)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/leads?limit=1000", ""},
		{"POST", "/leads/add", `{"name": "A"}`},
		{"GET", "/listings", ""},
	} {
		req, _ := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
		req.Header.Set("X-API-Key", srv.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The server's own answer came back: 400 for the first two, 404.
		if want := map[string]int{"/leads?limit=1000": 400, "/leads/add": 400, "/listings": 404}[r.path]; resp.StatusCode != want {
			t.Errorf("%s %s: %d; want the server's %d", r.method, r.path, resp.StatusCode, want)
		}
	}
	var b strings.Builder
	proxy.WriteSummary(&b, p.Summary())
	for _, want := range []string{
		"listLeads request: invalid_parameter: The parameter 'limit' must be at most 100",
		"createLead request: invalid_parameter: The body field 'email' is required",
		"(no operation) request: no operation of the spec has this method and path",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, &b)
		}
	}
}

func slogJSON(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

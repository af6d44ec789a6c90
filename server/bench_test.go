package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/genserver"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server"
)

// benchLeads is how many leads the listed account holds: the list's cost
// does not grow with it (an index gives the page), seeding does.
const benchLeads = 500

// BenchmarkServer measures the whole server in-process (no network) over
// an in-memory SQLite database, with each validation setting, so that the
// middleware's share shows beside the store's. The load run (make bench)
// measures the same over loopback against axiom serve.
func BenchmarkServer(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	readKey, writeKey := benchAccount(b, db, benchLeads), benchAccount(b, db, 0)

	setups := []struct {
		name string
		cfg  server.Config
	}{
		{"off", server.Config{SkipRequestValidation: true, Responses: validation.ResponseOff}},
		{"request", server.Config{Responses: validation.ResponseOff}},
		{"request+response", server.Config{Responses: validation.ResponseEnforce}},
	}
	n := 0
	requests := []struct {
		name, method, target, key string
		body                      func() string
		want                      int
	}{
		{"ListLeads20", "GET", "/v1/leads?limit=20", readKey, nil, 200},
		{"SearchLeads", "GET", "/v1/leads?search=smith&limit=20", readKey, nil, 200},
		{"CreateLead", "POST", "/v1/leads/add", writeKey, func() string {
			n++
			return fmt.Sprintf(`{"name":"Bench Lead","email":"bench.%d@example.com","phone":"+11235550199","company":"Acme",`+
				`"type":"prospect","tags":["buyer","residential"],"notes":["Called on Monday."],"custom_fields":{"budget":"$500k"}}`, n)
		}, 201},
	}
	for _, r := range requests {
		for _, s := range setups {
			b.Run(r.name+"/"+s.name, func(b *testing.B) {
				cfg := s.cfg
				cfg.KeyCacheTTL = time.Second // as axiom serve runs
				h := newHandler(b, db, cfg)
				b.ReportAllocs()
				for b.Loop() {
					var body io.Reader
					if r.body != nil {
						body = strings.NewReader(r.body())
					}
					req := httptest.NewRequest(r.method, r.target, body)
					req.Header.Set("X-API-Key", r.key)
					if body != nil {
						req.Header.Set("Content-Type", "application/json")
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != r.want {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// benchAccount creates an account holding n leads and returns its key.
func benchAccount(b *testing.B, db *sqlite.DB, n int) string {
	b.Helper()
	ctx := context.Background()
	acc, secret := newAccount(b, db, axiom.PlanEnterprise)
	first := []string{"John", "Maria", "Wei", "Aisha", "Lars", "Sofia", "Kenji", "Olivia"}
	last := []string{"Smith", "Garcia", "Chen", "Okafor", "Johansson", "Muller", "Tanaka", "Brown"}
	for i := range n {
		f, l := first[i%len(first)], last[(i/len(first))%len(last)]
		err := db.CreateLead(ctx, axiom.NewLead(acc.ID, axiom.Lead{
			Name: f + " " + l, Email: fmt.Sprintf("%s.%s.%d@example-realty.com", f, l, i),
			Phone: "+11235550199", Company: "Acme Real Estate", Type: "prospect", Status: "active", Source: "Website",
			Tags: []string{"buyer", "residential"}, Notes: []string{"Called on Monday; interested in three-bedroom houses."},
			CustomFields: map[string]string{"preferred_location": "Downtown", "budget": "$500k-$750k"},
		}, time.Now()))
		if err != nil {
			b.Fatal(err)
		}
	}
	return secret
}

// BenchmarkLoadSpec compares LoadSpec with kin-openapi's loader, which
// genserver.GetSwagger uses: the largest part of a server's start.
func BenchmarkLoadSpec(b *testing.B) {
	for _, l := range []struct {
		name string
		load func() (*openapi3.T, error)
	}{
		{"LoadSpec", server.LoadSpec},
		{"genserver.GetSwagger", genserver.GetSwagger},
	} {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.load(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

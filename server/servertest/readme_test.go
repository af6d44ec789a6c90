package servertest_test

import (
	"testing"

	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/server/fault"
	"github.com/axiomkit/axiom/server/servertest"
)

// The README's in-process example, as it is written there (a root test
// holds the README's lines to this file's).
func TestMyClientAgainstTheFake(t *testing.T) {
	srv := servertest.New(t) // a real server on loopback, its own database
	c, err := client.New(srv.Key, client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	lead, err := c.Leads.Create(t.Context(), client.LeadCreate{Name: "Jane Doe", Email: "jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// The next read fails once with 503 and Retry-After: the client retries.
	srv.Faults.Replace([]fault.Rule{{Operation: "getLead", Status: 503, RetryAfter: 1, Times: 1}})
	got, err := c.Leads.Get(t.Context(), lead.ID)
	if err != nil || got.Email != "jane@example.com" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

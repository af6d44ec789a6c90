package servertest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/server/fault"
	"github.com/axiomkit/axiom/server/servertest"
)

// Testing a client's retries for real: the server answers the first list
// 429 and the first read 503, both with Retry-After, and the client waits
// and tries again. In a test, servertest.New(t, …) closes the server.
func Example_retryOn429And503() {
	srv, err := servertest.Start(
		servertest.WithSeedFile("../../docs/fixture.example.yaml"),
		servertest.WithFaults(
			fault.Rule{Name: "busy", Operation: "listLeads", Status: 429, RetryAfter: 1, Times: 1},
			fault.Rule{Name: "down", Operation: "getLead", Status: 503, RetryAfter: 1, Times: 1},
		))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, err := client.New("axm_demo0000000000000000000000000000000000", client.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	page, err := c.Leads.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	jane, err := c.Leads.Get(ctx, "cnt_jane")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Leads), "leads;", jane.Name)
	for _, st := range srv.Faults.States() {
		fmt.Printf("%s: %d of %d requests faulted\n", st.Rule.Name, st.Faulted, st.Matched)
	}

	// With retries off, the client shows each failure as it came.
	srv.Faults.Replace([]fault.Rule{{Operation: "getLead", Status: 503, RetryAfter: 30}})
	once, _ := client.New("axm_demo0000000000000000000000000000000000", client.WithBaseURL(srv.URL),
		client.WithRetryPolicy(client.RetryPolicy{}))
	_, err = once.Leads.Get(ctx, "cnt_jane")
	var apiErr *client.Error
	if errors.As(err, &apiErr) && errors.Is(err, client.ErrServiceUnavailable) {
		fmt.Println("503, retry after", apiErr.RetryAfter)
	}
	// Output:
	// 3 leads; Jane Doe
	// busy: 1 of 2 requests faulted
	// down: 1 of 2 requests faulted
	// 503, retry after 30s
}

// A fixture loaded at start, and brought back between tests: what a test
// deletes is there again after Reset.
func Example_seedAndReset() {
	srv, err := servertest.Start(servertest.WithSeedFile("../../docs/fixture.example.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, _ := client.New("axm_demo0000000000000000000000000000000000", client.WithBaseURL(srv.URL))
	ctx := context.Background()
	if _, err := c.Leads.Delete(ctx, "cnt_jane"); err != nil {
		log.Fatal(err)
	}
	_, err = c.Leads.Get(ctx, "cnt_jane")
	fmt.Println("after the delete:", errors.Is(err, client.ErrNotFound))

	if err := srv.ResetContext(ctx); err != nil { // in a test: srv.Reset(t)
		log.Fatal(err)
	}
	jane, err := c.Leads.Get(ctx, "cnt_jane")
	fmt.Println("after the reset:", jane.Email, err)
	// Output:
	// after the delete: true
	// after the reset: jane.doe@example.com <nil>
}

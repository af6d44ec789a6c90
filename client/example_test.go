package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/server/servertest"
)

// referenceServer starts the reference server with a fresh Starter
// account, standing in for https://api.axiom-console.com/v1.
func referenceServer() (baseURL, apiKey string, stop func()) {
	srv, err := servertest.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv.URL, srv.Key, srv.Close
}

// A client for production: the key comes from the environment, and the
// client paces itself to the plan's rate limit.
func Example() {
	c, err := client.New(os.Getenv("AXIOM_API_KEY"), client.WithPlanRateLimit(client.PlanStarter))
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

func ExampleLeadService_Create() {
	baseURL, apiKey, stop := referenceServer()
	defer stop()
	c, err := client.New(apiKey, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	lead, err := c.Leads.Create(context.Background(), client.LeadCreate{
		Name:   "Jane Doe",
		Email:  "jane.doe@example.com",
		Phone:  client.Ptr("+11235550199"),
		Source: client.Ptr("API"),
		Notes:  &[]string{"seller", "commercial"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: type %s, status %s\n", lead.Name, lead.Type, lead.Status)
	fmt.Printf("%d of the account's requests left\n", lead.RateLimit.Remaining)
	// Output:
	// Jane Doe: type lead, status active
	// 99 of the account's requests left
}

func ExampleLeadService_All() {
	baseURL, apiKey, stop := referenceServer()
	defer stop()
	c, err := client.New(apiKey, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"Ada", "Grace", "Linus"} {
		if _, err := c.Leads.Create(ctx, client.LeadCreate{Name: name, Email: name + "@example.com"}); err != nil {
			log.Fatal(err)
		}
	}

	// Pages are fetched as the loop advances; an error ends the loop.
	params := &client.ListLeadsParams{Sort: client.Ptr(client.LeadSortFieldName), Order: client.Ptr(client.ListLeadsParamsOrderAsc)}
	for lead, err := range c.Leads.All(ctx, params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(lead.Name, lead.Email)
	}
	// Output:
	// Ada Ada@example.com
	// Grace Grace@example.com
	// Linus Linus@example.com
}

func ExampleLeadService_Create_duplicate() {
	baseURL, apiKey, stop := referenceServer()
	defer stop()
	c, err := client.New(apiKey, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Leads.Create(ctx, client.LeadCreate{Name: "Jane Doe", Email: "jane.doe@example.com"}); err != nil {
		log.Fatal(err)
	}

	// Emails are unique per account, compared case-insensitively.
	_, err = c.Leads.Create(ctx, client.LeadCreate{Name: "Jane D.", Email: "Jane.Doe@example.com"})
	switch {
	case errors.Is(err, client.ErrDuplicateEntry):
		var apiErr *client.Error
		errors.As(err, &apiErr)
		fmt.Println("already there:", apiErr.Code, apiErr.StatusCode)
	case err != nil:
		log.Fatal(err)
	}
	// Output:
	// already there: duplicate_entry 422
}

// By default the client waits for Retry-After and tries again, so a 429
// is rarely seen. With retries off, it shows as ErrRateLimited, and the
// *Error says how long to wait.
func ExampleError_rateLimited() {
	baseURL, apiKey, stop := referenceServer()
	defer stop()
	c, err := client.New(apiKey, client.WithBaseURL(baseURL), client.WithRetryPolicy(client.RetryPolicy{}))
	if err != nil {
		log.Fatal(err)
	}

	for {
		_, err := c.Leads.List(context.Background(), nil)
		var apiErr *client.Error
		if errors.As(err, &apiErr) && errors.Is(err, client.ErrRateLimited) {
			fmt.Printf("rate limited: retry after %s (%d left of %d/min)\n",
				apiErr.RetryAfter, apiErr.RateLimit.Remaining, apiErr.RateLimit.Limit)
			break
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// rate limited: retry after 1s (0 left of 60/min)
}

// Command minimal is the smallest program a client user writes: it imports
// only package client. TestClientOnlyImportGraph builds it and checks what
// its import graph holds.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/axiomkit/axiom/client"
)

func main() {
	c, err := client.New(os.Getenv("AXIOM_API_KEY"), client.WithBaseURL("http://localhost:8080/v1"))
	if err != nil {
		log.Fatal(err)
	}
	for lead, err := range c.Leads.All(context.Background(), nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(lead.Name, lead.Email)
	}
}

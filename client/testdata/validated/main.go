// Command validated is minimal with response validation: it imports
// client/validate, which links kin-openapi. TestClientOnlyImportGraph uses
// it to show that its check finds what it looks for.
package main

import (
	"log"
	"os"

	"github.com/axiomkit/axiom/client"
	"github.com/axiomkit/axiom/client/validate"
)

func main() {
	v, err := validate.New()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.New(os.Getenv("AXIOM_API_KEY"), client.WithResponseValidator(v)); err != nil {
		log.Fatal(err)
	}
}

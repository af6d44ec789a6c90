package client

import (
	"context"
	"net/http"
	"testing"

	"github.com/axiomkit/axiom/client/validate"
)

// BenchmarkLeadsGet measures the client's own cost per call (the server
// answers from memory over loopback), with and without validation.
func BenchmarkLeadsGet(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"validated", []Option{withValidation(b)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := newAPIServer(b, func(w http.ResponseWriter, r *http.Request, _ int) { okLead(w, r) })
			c, err := New(testKey, append([]Option{WithBaseURL(srv.baseURL())}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Leads.Get(ctx, "cnt_1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewValidator is the one-off cost of loading and routing the
// embedded API description.
func BenchmarkNewValidator(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := validate.New(); err != nil {
			b.Fatal(err)
		}
	}
}

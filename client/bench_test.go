package client

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkLeadsGet measures the client's own cost per call (the server
// answers from memory over loopback), with and without validation.
func BenchmarkLeadsGet(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"validated", []Option{WithResponseValidation()}},
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

// BenchmarkNewWithValidation is the one-off cost of loading and routing
// the embedded API description.
func BenchmarkNewWithValidation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(testKey, WithResponseValidation()); err != nil {
			b.Fatal(err)
		}
	}
}

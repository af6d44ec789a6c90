package server

import (
	"bytes"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
)

// servers lists the urls of a spec's servers, in order.
func servers(t *testing.T, spec []byte) []string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		t.Fatalf("the rewritten spec does not load: %v", err)
	}
	var out []string
	for _, s := range doc.Servers {
		out = append(out, s.URL)
	}
	return out
}

// TestWithServerFirst: the docs' copy of the spec starts with this server,
// keeps the others once each, and refuses to write anything but a URL.
func TestWithServerFirst(t *testing.T) {
	const prod, local = "https://api.axiom-console.com/v1", "http://localhost:8080/v1"
	tests := []struct {
		name, base string
		want       []string
	}{
		{"request origin", "http://127.0.0.1:40123/v1", []string{"http://127.0.0.1:40123/v1", prod, local}},
		{"public URL", "https://axiom.staging.example.com/v1", []string{"https://axiom.staging.example.com/v1", prod, local}},
		{"the spec's own localhost, once", local, []string{local, prod}},
		{"production, once", prod, []string{prod, local}},
		{"a line break", "http://evil.example.com/v1\n  - url: http://x", []string{prod, local}},
		{"a quote", `http://evil.example.com/v1"`, []string{prod, local}},
		{"not http", "javascript:alert(1)", []string{prod, local}},
		{"no host", "http:///v1", []string{prod, local}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := servers(t, withServerFirst(axiom.OpenAPI, tt.base))
			if len(got) != len(tt.want) {
				t.Fatalf("servers = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("servers = %v, want %v", got, tt.want)
				}
			}
		})
	}
	// Only the servers list changes: the rest is the spec as written.
	out := withServerFirst(axiom.OpenAPI, "http://127.0.0.1:1/v1")
	if n := len(out) - len(axiom.OpenAPI); n <= 0 || !bytes.HasSuffix(out, axiom.OpenAPI[bytes.Index(axiom.OpenAPI, []byte("\nsecurity:\n")):]) {
		t.Errorf("the rewrite changed more than the servers list (%+d bytes)", n)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDecodeSpecIsUnmarshalJSON compares decodeSpec with kin-openapi's own
// decoding on documents with what the embedded one lacks.
func TestDecodeSpecIsUnmarshalJSON(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"minimal", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`},
		{"extensions", `{"openapi":"3.0.3","x-logo":{"url":"https://example.com/l.png"},"x-n":[1,2],` +
			`"info":{"title":"t","version":"1","x-i":true},"paths":{"/a":{"x-p":1,"get":{"responses":{"200":{"description":"ok"}}}}}}`},
		{"every field", `{"openapi":"3.1.0","jsonSchemaDialect":"https://spec.openapis.org/oas/3.1/dialect/base",` +
			`"info":{"title":"t","version":"1"},"servers":[{"url":"/v1"}],"security":[{"k":[]}],"tags":[{"name":"a"}],` +
			`"externalDocs":{"url":"https://example.com"},"webhooks":{"w":{"post":{"responses":{"200":{"description":"ok"}}}}},` +
			`"components":{"schemas":{"S":{"type":"object","properties":{"a":{"type":"integer","default":2,"enum":[1,2]}}}},` +
			`"securitySchemes":{"k":{"type":"apiKey","in":"header","name":"X-Key"}}},"paths":{}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want openapi3.T
			if err := json.Unmarshal([]byte(tt.doc), &want); err != nil {
				t.Fatal(err)
			}
			got, err := decodeSpec([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(&want)
			if !bytes.Equal(a, b) {
				t.Fatalf("decodeSpec:\n%s\nUnmarshalJSON:\n%s", a, b)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"openapi":3}`, `{"components":{"schemas":[]}}`, `{"openapi":"3.0.3"`} {
		if _, err := decodeSpec([]byte(bad)); err == nil {
			t.Errorf("decodeSpec(%s): no error", bad)
		}
	}
}

package validation

import (
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const writeOnlyDoc = `openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: /v1}]
paths:
  /things:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  items:
                    type: array
                    items: {$ref: '#/components/schemas/RESPONSE_ITEM'}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Secret'}
      responses:
        '204': {description: done}
components:
  schemas:
    Plain:
      type: object
      properties:
        name: {type: string}
    Secret:
      type: object
      properties:
        name: {type: string}
        secret: {type: string, writeOnly: true}
`

// TestWriteOnlyResponses checks that a writeOnly property in a response
// schema, however deep, is refused in responses, and that one only in a
// request schema does not slow responses down.
func TestWriteOnlyResponses(t *testing.T) {
	for _, tt := range []struct {
		name      string
		item      string
		writeOnly bool
	}{
		{"in a response", "Secret", true},
		{"only in a request", "Plain", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := openapi3.NewLoader().LoadFromData([]byte(strings.ReplaceAll(writeOnlyDoc, "RESPONSE_ITEM", tt.item)))
			if err != nil {
				t.Fatal(err)
			}
			v, err := New(doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if compiled := len(v.fast) > 0; compiled == tt.writeOnly {
				t.Errorf("compiled response schemas: %v, want %v", compiled, !tt.writeOnly)
			}
			op := v.byRoute[routeKey{http.MethodGet, "/v1/things"}]
			h := http.Header{"Content-Type": {"application/json"}}
			if err := v.CheckResponse(op, http.MethodGet, 200, h, []byte(`{"items":[{"name":"a"}]}`)); err != nil {
				t.Errorf("a response without the secret: %v", err)
			}
			err = v.CheckResponse(op, http.MethodGet, 200, h, []byte(`{"items":[{"name":"a","secret":"s"}]}`))
			if (err != nil) != tt.writeOnly {
				t.Errorf("a response with the secret: %v, want an error: %v", err, tt.writeOnly)
			}
		})
	}
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/axiomkit/axiom/gen"
)

// TestResponseValidation serves responses that drifted from openapi.yaml
// in one way each.
func TestResponseValidation(t *testing.T) {
	leadJSON := func(mutate func(m map[string]any)) step {
		return func(w http.ResponseWriter, _ *http.Request) {
			raw, _ := json.Marshal(sampleLead("cnt_1"))
			var m map[string]any
			json.Unmarshal(raw, &m)
			mutate(m)
			writeJSON(w, 200, map[string]any{"data": m})
		}
	}
	tests := []struct {
		name      string
		respond   step
		wantValid bool
		wantIn    string // part of the violation's message
		wantIs    error  // a sentinel the error must still match
	}{
		{name: "conforming lead", respond: okLead, wantValid: true},
		{name: "conforming 404", respond: func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, 404, gen.ErrorCodeNotFound, "No such lead")
		}, wantValid: true, wantIs: ErrNotFound},
		{name: "missing field", respond: leadJSON(func(m map[string]any) { delete(m, "company") }), wantIn: "company"},
		{name: "extra field", respond: leadJSON(func(m map[string]any) { m["score"] = 7 }), wantIn: "score"},
		{name: "bad enum", respond: leadJSON(func(m map[string]any) { m["status"] = "lead" }), wantIn: "status"},
		{name: "bad email", respond: leadJSON(func(m map[string]any) { m["email"] = "not an email" }), wantIn: "email"},
		{name: "bad id pattern", respond: leadJSON(func(m map[string]any) { m["id"] = "lead-1" }), wantIn: "id"},
		{name: "missing rate-limit header", respond: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(gen.LeadEnvelope{Data: sampleLead("cnt_1")})
		}, wantIn: "X-RateLimit-Limit"},
		{name: "undeclared status", respond: func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, 409, gen.ErrorCodeInvalidParameter, "Conflict")
		}, wantIn: "status is not supported"},
		{name: "error code outside the list", respond: func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, 404, "lead_missing", "No such lead")
		}, wantIn: "code", wantIs: ErrNotFound},
		{name: "proxy page", respond: html502, wantIn: "status is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.respond(w, r) })
			c, _ := newTestClient(t, srv, withValidation(t), WithRetryPolicy(RetryPolicy{}))
			_, err := c.Leads.Get(context.Background(), "cnt_1")
			var ve *ValidationError
			isViolation := errors.As(err, &ve)
			t.Logf("error: %v", err)
			if tt.wantValid {
				if isViolation {
					t.Fatalf("conforming response reported: %v", err)
				}
			} else {
				if !isViolation {
					t.Fatalf("error = %v, want a *ValidationError", err)
				}
				if !strings.Contains(ve.Err.Error(), tt.wantIn) {
					t.Errorf("violation %q does not mention %q", ve.Err, tt.wantIn)
				}
				if ve.Method != "GET" || ve.Path != "/v1/leads/cnt_1" {
					t.Errorf("violation names %s %s", ve.Method, ve.Path)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
		})
	}
}

// TestValidationIsOptIn: without the option a drifted response is
// decoded as well as it can be.
func TestValidationIsOptIn(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		raw, _ := json.Marshal(sampleLead("cnt_1"))
		var m map[string]any
		json.Unmarshal(raw, &m)
		m["score"] = 7
		writeJSON(w, 200, map[string]any{"data": m})
	})
	c, _ := newTestClient(t, srv)
	l, err := c.Leads.Get(context.Background(), "cnt_1")
	if err != nil || l.ID != "cnt_1" {
		t.Fatalf("Get = %+v, %v", l, err)
	}
}

// TestValidationCoversRawLayer: the raw client shares the validation.
func TestValidationCoversRawLayer(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"data": []any{}, "length": "zero"})
	})
	c, _ := newTestClient(t, srv, withValidation(t))
	_, err := c.Raw().ListTemplatesWithResponse(context.Background(), nil)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("raw ListTemplates error = %v, want *ValidationError", err)
	}
}

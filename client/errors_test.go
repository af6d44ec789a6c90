package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

func TestErrors(t *testing.T) {
	sentinels := []error{ErrInvalidParameter, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrDuplicateEntry, ErrIdempotencyKeyReused, ErrTemplateNotFound, ErrPropertyNotFound, ErrInvalidState, ErrRateLimited, ErrServiceUnavailable}
	envelope := func(status int, code gen.ErrorCode) step {
		return func(w http.ResponseWriter, _ *http.Request) { writeError(w, status, code, "The message") }
	}
	tests := []struct {
		name        string
		respond     step
		wantIs      error // the one sentinel it matches, or nil for none
		wantStatus  int
		wantCode    gen.ErrorCode
		wantMessage string
	}{
		{"400 invalid_parameter", envelope(400, gen.ErrorCodeInvalidParameter), ErrInvalidParameter, 400, gen.ErrorCodeInvalidParameter, "The message"},
		{"401 unauthorized", envelope(401, gen.ErrorCodeUnauthorized), ErrUnauthorized, 401, gen.ErrorCodeUnauthorized, "The message"},
		{"403 forbidden", envelope(403, gen.ErrorCodeForbidden), ErrForbidden, 403, gen.ErrorCodeForbidden, "The message"},
		{"404 not_found", envelope(404, gen.ErrorCodeNotFound), ErrNotFound, 404, gen.ErrorCodeNotFound, "The message"},
		{"422 duplicate_entry", envelope(422, gen.ErrorCodeDuplicateEntry), ErrDuplicateEntry, 422, gen.ErrorCodeDuplicateEntry, "The message"},
		{"422 idempotency_key_reused", envelope(422, gen.ErrorCodeIdempotencyKeyReused), ErrIdempotencyKeyReused, 422, gen.ErrorCodeIdempotencyKeyReused, "The message"},
		{"422 template_not_found", envelope(422, gen.ErrorCodeTemplateNotFound), ErrTemplateNotFound, 422, gen.ErrorCodeTemplateNotFound, "The message"},
		{"422 property_not_found", envelope(422, gen.ErrorCodePropertyNotFound), ErrPropertyNotFound, 422, gen.ErrorCodePropertyNotFound, "The message"},
		{"422 invalid_state", envelope(422, gen.ErrorCodeInvalidState), ErrInvalidState, 422, gen.ErrorCodeInvalidState, "The message"},
		{"429 rate_limit_exceeded", tooMany("120"), ErrRateLimited, 429, gen.ErrorCodeRateLimitExceeded, "Rate limit exceeded; retry after 120 seconds"},
		{"503 service_unavailable", envelope(503, gen.ErrorCodeServiceUnavailable), ErrServiceUnavailable, 503, gen.ErrorCodeServiceUnavailable, "The message"},
		{"HTML 503 from a load balancer", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			w.Write([]byte("<html><title>Service Unavailable</title></html>"))
		}, ErrServiceUnavailable, 503, "", "Service Unavailable"},
		{"405 method_not_allowed", envelope(405, gen.ErrorCodeMethodNotAllowed), nil, 405, gen.ErrorCodeMethodNotAllowed, "The message"},
		{"HTML 502 from a proxy", html502, nil, 502, "", "502 Bad Gateway"},
		{"empty 502", empty502, nil, 502, "", "Bad Gateway"},
		{"HTML 404 from a proxy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(404)
			w.Write([]byte("<!doctype html><h1>Page &amp; not found</h1>"))
		}, ErrNotFound, 404, "", "Page & not found"},
		{"plain text 403 from a firewall", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(403)
			w.Write([]byte("Request blocked.\nReference: 18.abc\n"))
		}, ErrForbidden, 403, "", "Request blocked. Reference: 18.abc"},
		{"JSON that is not the envelope", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 400, map[string]string{"message": "bad"})
		}, ErrInvalidParameter, 400, "", `{"message":"bad"}`},
		{"unknown code falls back on the status", func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, 404, "gone_fishing", "Where?")
		}, ErrNotFound, 404, "gone_fishing", "Where?"},
		{"422 without a code matches neither 422 sentinel", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(422)
		}, nil, 422, "", "Unprocessable Entity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.respond(w, r) })
			c, _ := newTestClient(t, srv, WithRetryPolicy(RetryPolicy{}))
			_, err := c.Leads.Get(context.Background(), "cnt_1")
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if apiErr.StatusCode != tt.wantStatus || string(apiErr.Code) != string(tt.wantCode) || apiErr.Message != tt.wantMessage {
				t.Errorf("*Error = status %d, code %q, message %q; want %d, %q, %q", apiErr.StatusCode, apiErr.Code, apiErr.Message, tt.wantStatus, tt.wantCode, tt.wantMessage)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.wantIs) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if apiErr.Method != "GET" || apiErr.Path != "/v1/leads/cnt_1" {
				t.Errorf("request = %s %s", apiErr.Method, apiErr.Path)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "axiom: GET /v1/leads/cnt_1: ") || !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

func TestErrorCarriesResponseState(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1900000000")
		w.Header().Set("X-Request-Id", "01JD3X4Q5Z8N6J4M2K7P9R0S1T")
		w.Header().Set("Retry-After", "7")
		writeError(w, 429, gen.ErrorCodeRateLimitExceeded, "Slow down")
	})
	c, _ := newTestClient(t, srv, WithRetryPolicy(RetryPolicy{}))
	_, err := c.Leads.List(context.Background(), nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want *Error", err)
	}
	want := Error{
		StatusCode: 429, Code: axiom.CodeRateLimitExceeded, RequestID: "01JD3X4Q5Z8N6J4M2K7P9R0S1T",
		DocumentationURL: "https://api.axiom-console.com/docs/errors#rate_limit_exceeded",
		RateLimit:        RateLimit{Limit: 60, Remaining: 0, Reset: time.Unix(1900000000, 0)},
		RetryAfter:       7 * time.Second,
	}
	if apiErr.StatusCode != want.StatusCode || apiErr.Code != want.Code || apiErr.RequestID != want.RequestID ||
		apiErr.DocumentationURL != want.DocumentationURL || apiErr.RetryAfter != want.RetryAfter ||
		apiErr.RateLimit.Limit != 60 || apiErr.RateLimit.Remaining != 0 || !apiErr.RateLimit.Reset.Equal(want.RateLimit.Reset) {
		t.Errorf("*Error = %+v\nwant      %+v", *apiErr, want)
	}
	for _, part := range []string{"429 rate_limit_exceeded", "retry after 7s", "request id 01JD3X4Q5Z8N6J4M2K7P9R0S1T"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Error() = %q lacks %q", err, part)
		}
	}
}

// TestKeyNeverInErrors has servers echo the key back in every way an
// error could pick it up.
func TestKeyNeverInErrors(t *testing.T) {
	tests := []struct {
		name    string
		respond step
	}{
		{"envelope message", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, 401, gen.ErrorCodeUnauthorized, "The key "+r.Header.Get(HeaderAPIKey)+" is revoked")
		}},
		{"HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte("<html><title>Bad gateway for " + r.Header.Get(HeaderAPIKey) + "</title></html>"))
		}},
		{"text body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			w.Write([]byte("header X-API-Key: " + r.Header.Get(HeaderAPIKey)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.respond(w, r) })
			logs := &logBuffer{}
			c, _ := newTestClient(t, srv, WithLogger(logs.logger()), withValidation(t))
			_, err := c.Leads.Get(context.Background(), "cnt_1")
			if err == nil {
				t.Fatal("no error")
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *Error inside", err)
			}
			for name, s := range map[string]string{"Error()": err.Error(), "Message": apiErr.Message, "Body": string(apiErr.Body), "logs": logs.String()} {
				if strings.Contains(s, testKey) {
					t.Errorf("%s holds the key: %s", name, s)
				}
			}
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("Error() = %q, want the key's place marked", err)
			}
		})
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, key := range []string{"", "line\nbreak", "tab\tkey"} {
		_, err := New(key)
		if err == nil {
			t.Errorf("New(%q) accepted", key)
			continue
		}
		if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("New error %q holds the key", err)
		}
	}
}

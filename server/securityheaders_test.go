package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/server/servertest"
)

// refuseAll is a limiter whose bucket is always empty.
type refuseAll struct{}

func (refuseAll) Allow(_ context.Context, _ string, l ratelimit.Limit) (ratelimit.Result, error) {
	now := time.Now()
	return ratelimit.Result{Limit: 60, ResetAt: now.Add(time.Minute), RetryAfter: time.Second, At: now}, nil
}

// Every answer, whatever its kind, carries the headers a JSON API sends;
// every answer to an authenticated request is kept out of caches.
func TestSecurityHeaders(t *testing.T) {
	srv := newServer(t)
	limited := newServer(t, servertest.WithLimiter(refuseAll{}))
	readOnly := srv.NewReadOnlyKey(t)
	revoked := srv.NewKey(t)
	srv.RevokeKey(t, revoked)
	resp, body := call(t, http.MethodPost, srv.URL+"/leads/add", srv.Key, "application/json", strings.NewReader(`{"name":"Del","email":"del@example.com"}`))
	var created struct{ Data struct{ ID string } }
	if err := json.Unmarshal(body, &created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	root := strings.TrimSuffix(srv.URL, "/v1")
	lead := `{"name":"Sec","email":"sec@example.com"}`

	for _, tc := range []struct {
		name, method, url, key, contentType, body string
		idem                                      string // sent twice with this Idempotency-Key: the second is replayed
		status                                    int
		authenticated                             bool
	}{
		{"200 list", "GET", srv.URL + "/leads", srv.Key, "", "", "", 200, true},
		{"201 create", "POST", srv.URL + "/leads/add", srv.Key, "application/json", lead, "", 201, true},
		{"201 idempotent replay", "POST", srv.URL + "/leads/add", srv.Key, "application/json", `{"name":"Re","email":"re@example.com"}`, "sec-replay", 201, true},
		{"204 delete", "DELETE", srv.URL + "/leads/" + created.Data.ID, srv.Key, "", "", "", 204, true},
		{"400 bad parameter", "GET", srv.URL + "/leads?limit=0", srv.Key, "", "", "", 400, true},
		{"403 read-only key", "POST", srv.URL + "/leads/add", readOnly, "application/json", lead, "", 403, true},
		{"404 no such lead", "GET", srv.URL + "/leads/cnt_missing", srv.Key, "", "", "", 404, true},
		{"415 not JSON", "POST", srv.URL + "/leads/add", srv.Key, "text/plain", lead, "", 415, true},
		{"429 rate limited", "GET", limited.URL + "/leads", limited.Key, "", "", "", 429, true},
		{"401 no key", "GET", srv.URL + "/leads", "", "", "", "", 401, false},
		{"401 revoked key", "GET", srv.URL + "/leads", revoked, "", "", "", 401, false},
		{"404 unknown path", "GET", srv.URL + "/nope", srv.Key, "", "", "", 404, false},
		{"404 outside the API", "GET", root + "/nope", "", "", "", "", 404, false},
		{"405 wrong method", "PUT", srv.URL + "/leads", srv.Key, "", "", "", 405, false},
		{"413 too large", "POST", srv.URL + "/leads/add", srv.Key, "application/json", strings.Repeat(" ", 2<<20), "", 413, false},
		{"public healthz", "GET", root + "/healthz", "", "", "", "", 200, false},
		{"public readyz", "GET", root + "/readyz", "", "", "", "", 200, false},
		{"public spec", "GET", root + "/openapi.yaml", "", "", "", "", 200, false},
		{"public docs", "GET", root + "/docs/", "", "", "", "", 200, false},
		{"public docs asset missing", "GET", root + "/docs/missing.js", "", "", "", "", 404, false},
		{"public unsubscribe link", "GET", srv.URL + "/u/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", "", "", "", "", 404, false},
		{"public tracking pixel", "GET", srv.URL + "/t/o/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", "", "", "", "", 404, false},
		{"public tracked link", "GET", srv.URL + "/t/c/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", "", "", "", "", 404, false},
		{"public link malformed", "GET", srv.URL + "/t/c/short", "", "", "", "", 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.key != "" {
				req.Header.Set("X-API-Key", tc.key)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.idem != "" {
				req.Header.Set("Idempotency-Key", tc.idem)
				first := req.Clone(context.Background())
				first.Body = io.NopCloser(strings.NewReader(tc.body))
				resp, err := http.DefaultClient.Do(first)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.idem != "" && resp.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatal("the second request was not a replay")
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := resp.Header.Get("Cache-Control"); tc.authenticated && got != "no-store" {
				t.Errorf("Cache-Control %q on an authenticated answer, want no-store", got)
			}
		})
	}
}

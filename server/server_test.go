package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server"
	"github.com/axiomkit/axiom/server/servertest"
)

// newServer starts a reference server on a real SQLite file.
func newServer(t *testing.T, opts ...servertest.Option) *servertest.Server {
	t.Helper()
	opts = append([]servertest.Option{servertest.WithDatabase(filepath.Join(t.TempDir(), "axiom.db"))}, opts...)
	return servertest.New(t, opts...)
}

// apiClient is the generated client, authenticated with key.
func apiClient(t *testing.T, srv *servertest.Server, key string) *gen.ClientWithResponses {
	t.Helper()
	c, err := gen.NewClientWithResponses(srv.URL, gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", key)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// call sends a raw request and returns the response with its body read.
func call(t *testing.T, method, url, key, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantError checks an error response: status, envelope and code.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code gen.ErrorCode) gen.ErrorDetail {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && resp.Request.Method != http.MethodHead {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var env map[string]map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&env); err != nil || len(env) != 1 || env["error"] == nil {
		t.Fatalf("body is not the error envelope: %s", body)
	}
	var e gen.Error
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Code != code {
		t.Fatalf("code %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if e.Error.Message == "" || e.Error.DocumentationURL != "https://api.axiom-console.com/docs/errors#"+string(code) {
		t.Fatalf("bad envelope: %+v", e.Error)
	}
	return e.Error
}

// wantRateHeaders checks that the three rate-limit headers are present and sane.
func wantRateHeaders(t *testing.T, h http.Header) (limit, remaining int, reset int64) {
	t.Helper()
	var err error
	if limit, err = strconv.Atoi(h.Get("X-RateLimit-Limit")); err != nil || limit <= 0 {
		t.Fatalf("X-RateLimit-Limit %q", h.Get("X-RateLimit-Limit"))
	}
	if remaining, err = strconv.Atoi(h.Get("X-RateLimit-Remaining")); err != nil || remaining < 0 {
		t.Fatalf("X-RateLimit-Remaining %q", h.Get("X-RateLimit-Remaining"))
	}
	if reset, err = strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err != nil || reset < time.Now().Unix()-1 {
		t.Fatalf("X-RateLimit-Reset %q", h.Get("X-RateLimit-Reset"))
	}
	return limit, remaining, reset
}

func ptr[T any](v T) *T { return &v }

func TestLeadsLifecycle(t *testing.T) {
	srv := newServer(t)
	c := apiClient(t, srv, srv.Key)
	ctx := context.Background()

	created, err := c.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{
		Name: "Jane Doe", Email: "jane.doe@example.com", Phone: ptr("+11235550199"),
		Type: ptr(gen.LeadTypeLead), Source: ptr("API"), Notes: ptr([]string{"seller", "commercial"}),
		CustomFields: ptr(gen.CustomFields{"property_type": "Office Space"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.StatusCode() != http.StatusCreated || created.JSON201 == nil {
		t.Fatalf("create: %d %s", created.StatusCode(), created.Body)
	}
	wantRateHeaders(t, created.HTTPResponse.Header)
	if created.Headers201 == nil || created.Headers201.XRateLimitLimit != 60 {
		t.Fatalf("create headers: %+v", created.Headers201)
	}
	lead := created.JSON201.Data
	if !regexp.MustCompile(`^cnt_[0-9A-Za-z]+$`).MatchString(lead.ID) || lead.Type != gen.LeadTypeLead ||
		lead.Status != gen.LeadStatusActive || lead.Source != "API" || len(lead.Notes) != 2 ||
		lead.Tags == nil || lead.CustomFields["property_type"] != "Office Space" || !lead.CreatedAt.Equal(lead.UpdatedAt) {
		t.Fatalf("created lead: %+v", lead)
	}

	got, err := c.GetLeadWithResponse(ctx, lead.ID)
	if err != nil || got.StatusCode() != http.StatusOK || got.JSON200.Data.Email != "jane.doe@example.com" {
		t.Fatalf("get: %v %d %s", err, got.StatusCode(), got.Body)
	}

	upd, err := c.UpdateLeadWithResponse(ctx, lead.ID, gen.LeadUpdate{Type: ptr(gen.LeadTypeClient), Tags: ptr([]string{"buyer"}), Phone: ptr("")})
	if err != nil || upd.StatusCode() != http.StatusOK {
		t.Fatalf("update: %v %d %s", err, upd.StatusCode(), upd.Body)
	}
	if u := upd.JSON200.Data; u.Type != gen.LeadTypeClient || u.Phone != "" || len(u.Tags) != 1 || u.Name != "Jane Doe" || len(u.Notes) != 2 {
		t.Fatalf("updated lead: %+v", u)
	}

	list, err := c.ListLeadsWithResponse(ctx, &gen.ListLeadsParams{Search: ptr("JANE buy")})
	if err != nil || list.StatusCode() != http.StatusOK || list.JSON200.Length != 1 || list.JSON200.Data[0].ID != lead.ID {
		t.Fatalf("search: %v %d %s", err, list.StatusCode(), list.Body)
	}

	del, err := c.DeleteLeadWithResponse(ctx, lead.ID)
	if err != nil || del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %d %s", err, del.StatusCode(), del.Body)
	}
	wantRateHeaders(t, del.HTTPResponse.Header)
	again, err := c.GetLeadWithResponse(ctx, lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, again.HTTPResponse, again.Body, http.StatusNotFound, gen.ErrorCodeNotFound)
	wantRateHeaders(t, again.HTTPResponse.Header)
}

func TestListPagingAndSorting(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	c := apiClient(t, srv, srv.Key)
	ctx := context.Background()
	names := []string{"delta", "Alpha", "charlie", "bravo", "Echo"}
	for i, n := range names {
		r, err := c.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: n, Email: fmt.Sprintf("%s%d@example.com", strings.ToLower(n), i)})
		if err != nil || r.StatusCode() != http.StatusCreated {
			t.Fatalf("create %s: %v %s", n, err, r.Body)
		}
	}
	asc := gen.ListLeadsParamsOrderAsc
	r, err := c.ListLeadsWithResponse(ctx, &gen.ListLeadsParams{Sort: ptr(gen.LeadSortFieldName), Order: &asc, Limit: ptr(2)})
	if err != nil || r.StatusCode() != http.StatusOK {
		t.Fatal(err, r.Body)
	}
	if r.JSON200.Length != 2 || r.JSON200.Data[0].Name != "Alpha" || r.JSON200.Data[1].Name != "bravo" || !*r.JSON200.HasMore {
		t.Fatalf("page 1: %s", r.Body)
	}
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		r, err := c.ListLeadsWithResponse(ctx, &gen.ListLeadsParams{Page: ptr(page), Limit: ptr(2)})
		if err != nil || r.StatusCode() != http.StatusOK {
			t.Fatal(err)
		}
		for _, l := range r.JSON200.Data {
			if seen[l.ID] {
				t.Fatalf("lead %s on two pages", l.ID)
			}
			seen[l.ID] = true
		}
		if wantMore := page < 3; *r.JSON200.HasMore != wantMore {
			t.Fatalf("page %d has_more=%v", page, *r.JSON200.HasMore)
		}
	}
	if len(seen) != len(names) {
		t.Fatalf("saw %d leads over the pages, want %d", len(seen), len(names))
	}
	// Default order is newest first.
	r, _ = c.ListLeadsWithResponse(ctx, nil)
	if r.JSON200.Data[0].Name != "Echo" || r.JSON200.Length != 5 {
		t.Fatalf("default order: %s", r.Body)
	}
}

func TestTemplatesLifecycle(t *testing.T) {
	srv := newServer(t)
	c := apiClient(t, srv, srv.Key)
	ctx := context.Background()
	r, err := c.CreateTemplateWithResponse(ctx, nil, gen.TemplateCreate{Name: "From API", Subject: "Test from API", Content: "html content for email body"})
	if err != nil || r.StatusCode() != http.StatusCreated {
		t.Fatalf("create: %v %s", err, r.Body)
	}
	slug := r.JSON201.Data.Template
	if !regexp.MustCompile(`^from-api-[0-9a-f]{8}$`).MatchString(slug) || r.JSON201.Data.Message != "Template created successfully" {
		t.Fatalf("created: %s", r.Body)
	}
	odd, _ := c.CreateTemplateWithResponse(ctx, nil, gen.TemplateCreate{Name: "¡¡¡", Subject: "s", Content: "c"})
	if !regexp.MustCompile(`^template-[0-9a-f]{8}$`).MatchString(odd.JSON201.Data.Template) {
		t.Fatalf("slug of a name without letters: %s", odd.Body)
	}
	g, _ := c.GetTemplateWithResponse(ctx, slug)
	if g.StatusCode() != http.StatusOK || g.JSON200.Data.Content != "html content for email body" {
		t.Fatalf("get: %s", g.Body)
	}
	u, _ := c.UpdateTemplateWithResponse(ctx, slug, gen.TemplateUpdate{Name: ptr("Renamed"), Subject: ptr("New subject")})
	if u.StatusCode() != http.StatusOK || u.JSON200.Data.Slug != slug || u.JSON200.Data.Name != "Renamed" {
		t.Fatalf("update: %s", u.Body)
	}
	l, _ := c.ListTemplatesWithResponse(ctx, nil)
	if l.StatusCode() != http.StatusOK || l.JSON200.Length != 2 {
		t.Fatalf("list: %s", l.Body)
	}
	d, _ := c.DeleteTemplateWithResponse(ctx, slug)
	if d.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %s", d.Body)
	}
	g, _ = c.GetTemplateWithResponse(ctx, slug)
	wantError(t, g.HTTPResponse, g.Body, http.StatusNotFound, gen.ErrorCodeNotFound)
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t)
	revoked := srv.NewKey(t)
	srv.RevokeKey(t, revoked)
	readOnly := srv.NewReadOnlyKey(t)
	leads := srv.URL + "/leads"
	for _, tc := range []struct {
		name, header, key string
		status            int
		code              gen.ErrorCode
	}{
		{"no key", "", "", 401, gen.ErrorCodeUnauthorized},
		{"unknown key", "X-API-Key", "axm_unknown", 401, gen.ErrorCodeUnauthorized},
		{"revoked key", "X-API-Key", revoked, 401, gen.ErrorCodeUnauthorized},
		{"X-API-Key", "X-API-Key", srv.Key, 200, ""},
		{"X-Axiom-API-Key", "X-Axiom-API-Key", srv.Key, 200, ""},
		{"read-only key reads", "X-API-Key", readOnly, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, leads, nil)
			if tc.header != "" {
				req.Header.Set(tc.header, tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.code != "" {
				wantError(t, resp, body, tc.status, tc.code)
				// No account is known: the headers are the client address's bucket.
				if limit, _, _ := wantRateHeaders(t, resp.Header); limit != server.DefaultUnauthenticated.Rate {
					t.Fatalf("a 401's X-RateLimit-Limit is %d, want the unauthenticated bucket's %d", limit, server.DefaultUnauthenticated.Rate)
				}
				return
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("security headers: %v", resp.Header)
			}
		})
	}
	t.Run("read-only key writes", func(t *testing.T) {
		resp, body := call(t, http.MethodPost, srv.URL+"/leads/add", readOnly, "application/json", strings.NewReader(`{"name":"A","email":"a@example.com"}`))
		wantError(t, resp, body, http.StatusForbidden, gen.ErrorCodeForbidden)
		wantRateHeaders(t, resp.Header)
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	srv := newServer(t)
	other := srv.NewAccountKey(t, axiom.PlanProfessional)
	mine := apiClient(t, srv, srv.Key)
	theirs := apiClient(t, srv, other)
	ctx := context.Background()
	r, _ := mine.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: "Mine", Email: "mine@example.com"})
	id := r.JSON201.Data.ID
	tpl, _ := mine.CreateTemplateWithResponse(ctx, nil, gen.TemplateCreate{Name: "Mine", Subject: "s", Content: "c"})
	slug := tpl.JSON201.Data.Template

	g, _ := theirs.GetLeadWithResponse(ctx, id)
	wantError(t, g.HTTPResponse, g.Body, 404, gen.ErrorCodeNotFound)
	missing, _ := theirs.GetLeadWithResponse(ctx, "cnt_doesnotexist")
	var a, b gen.Error
	json.Unmarshal(g.Body, &a)
	json.Unmarshal(missing.Body, &b)
	if strings.ReplaceAll(a.Error.Message, id, "X") != strings.ReplaceAll(b.Error.Message, "cnt_doesnotexist", "X") {
		t.Fatalf("another account's lead must read as a missing one: %q vs %q", a.Error.Message, b.Error.Message)
	}
	u, _ := theirs.UpdateLeadWithResponse(ctx, id, gen.LeadUpdate{Name: ptr("Stolen")})
	wantError(t, u.HTTPResponse, u.Body, 404, gen.ErrorCodeNotFound)
	d, _ := theirs.DeleteLeadWithResponse(ctx, id)
	wantError(t, d.HTTPResponse, d.Body, 404, gen.ErrorCodeNotFound)
	l, _ := theirs.ListLeadsWithResponse(ctx, nil)
	if l.JSON200.Length != 0 {
		t.Fatalf("another account's list shows %d leads", l.JSON200.Length)
	}
	gt, _ := theirs.GetTemplateWithResponse(ctx, slug)
	wantError(t, gt.HTTPResponse, gt.Body, 404, gen.ErrorCodeNotFound)
	// The same email is free in another account.
	dup, _ := theirs.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: "Theirs", Email: "mine@example.com"})
	if dup.StatusCode() != 201 {
		t.Fatalf("same email in another account: %s", dup.Body)
	}
	if g, _ := mine.GetLeadWithResponse(ctx, id); g.JSON200.Data.Name != "Mine" {
		t.Fatal("lead changed by another account")
	}
}

func TestDuplicateEmail(t *testing.T) {
	srv := newServer(t)
	c := apiClient(t, srv, srv.Key)
	ctx := context.Background()
	first, _ := c.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: "A", Email: "Dup@Example.com"})
	if first.StatusCode() != 201 {
		t.Fatal(string(first.Body))
	}
	for _, email := range []string{"Dup@Example.com", "dup@example.com", "DUP@EXAMPLE.COM"} {
		r, _ := c.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: "B", Email: email})
		e := wantError(t, r.HTTPResponse, r.Body, http.StatusUnprocessableEntity, gen.ErrorCodeDuplicateEntry)
		if !strings.Contains(e.Message, email) {
			t.Fatalf("message does not name the email: %q", e.Message)
		}
		wantRateHeaders(t, r.HTTPResponse.Header)
	}
	second, _ := c.CreateLeadWithResponse(ctx, nil, gen.LeadCreate{Name: "B", Email: "other@example.com"})
	u, _ := c.UpdateLeadWithResponse(ctx, second.JSON201.Data.ID, gen.LeadUpdate{Email: ptr("DUP@example.com")})
	wantError(t, u.HTTPResponse, u.Body, http.StatusUnprocessableEntity, gen.ErrorCodeDuplicateEntry)
}

func TestConcurrentAddsOfOneEmail(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	c := apiClient(t, srv, srv.Key)
	const n = 100
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.CreateLeadWithResponse(context.Background(), nil, gen.LeadCreate{Name: fmt.Sprint("N", i), Email: "race@example.com"})
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- r.StatusCode()
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[422] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 422s", count, n-1)
	}
}

func TestBadInputGetsA4xxEnvelope(t *testing.T) {
	srv := newServer(t, servertest.WithoutRateLimit())
	c := apiClient(t, srv, srv.Key)
	created, _ := c.CreateLeadWithResponse(context.Background(), nil, gen.LeadCreate{Name: "Keep", Email: "keep@example.com"})
	keepID := created.JSON201.Data.ID
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `","email":"big@example.com"}`
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  gen.ErrorCode
	}{
		{"malformed JSON", "POST", "/leads/add", "application/json", `{"name":`, 400, gen.ErrorCodeInvalidParameter},
		{"wrong type", "POST", "/leads/add", "application/json", `{"name":1,"email":"a@example.com"}`, 400, gen.ErrorCodeInvalidParameter},
		{"missing email", "POST", "/leads/add", "application/json", `{"name":"A"}`, 400, gen.ErrorCodeInvalidParameter},
		{"bad email", "POST", "/leads/add", "application/json", `{"name":"A","email":"not-an-email"}`, 400, gen.ErrorCodeInvalidParameter},
		{"unknown field", "POST", "/leads/add", "application/json", `{"name":"A","email":"a@example.com","vip":true}`, 400, gen.ErrorCodeInvalidParameter},
		{"server-owned id", "POST", "/leads/add", "application/json", `{"name":"A","email":"a@example.com","id":"cnt_1"}`, 400, gen.ErrorCodeInvalidParameter},
		{"server-owned created_at", "PATCH", "/leads/" + keepID, "application/json", `{"created_at":"2020-01-01T00:00:00Z"}`, 400, gen.ErrorCodeInvalidParameter},
		{"empty patch", "PATCH", "/leads/" + keepID, "application/json", `{}`, 400, gen.ErrorCodeInvalidParameter},
		{"invalid UTF-8", "POST", "/leads/add", "application/json", "{\"name\":\"\xff\xfe\",\"email\":\"a@example.com\"}", 400, gen.ErrorCodeInvalidParameter},
		{"empty body", "POST", "/leads/add", "application/json", ``, 400, gen.ErrorCodeInvalidParameter},
		{"NUL in a string", "POST", "/leads/add", "application/json", `{"name":"A\u0000B","email":"nul@example.com"}`, 400, gen.ErrorCodeInvalidParameter},
		{"wrong content type", "POST", "/leads/add", "text/plain", `{"name":"A","email":"a@example.com"}`, 415, gen.ErrorCodeUnsupportedMediaType},
		{"oversized body", "POST", "/leads/add", "application/json", big, 413, gen.ErrorCodePayloadTooLarge},
		{"limit=0", "GET", "/leads?limit=0", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"limit=101", "GET", "/leads?limit=101", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"limit=abc", "GET", "/leads?limit=abc", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"page=0", "GET", "/leads?page=0", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"unknown sort", "GET", "/leads?sort=password", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"unknown order", "GET", "/leads?order=up", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"bad lead id", "GET", "/leads/robert'); DROP TABLE leads;--", "", "", 400, gen.ErrorCodeInvalidParameter},
		{"unknown path", "GET", "/nowhere", "", "", 404, gen.ErrorCodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, tc.method, srv.URL+tc.path, srv.Key, tc.contentType, strings.NewReader(tc.body))
			e := wantError(t, resp, body, tc.status, tc.code)
			if len(e.Message) > 400 {
				t.Fatalf("message too long (%d bytes)", len(e.Message))
			}
		})
	}
	t.Run("message names the parameter", func(t *testing.T) {
		resp, body := call(t, "GET", srv.URL+"/leads?limit=101", srv.Key, "", nil)
		if e := wantError(t, resp, body, 400, gen.ErrorCodeInvalidParameter); !strings.Contains(e.Message, "limit") {
			t.Fatalf("message %q does not name 'limit'", e.Message)
		}
		resp, body = call(t, "POST", srv.URL+"/leads/add", srv.Key, "application/json", strings.NewReader(`{"name":"A","email":"nope"}`))
		if e := wantError(t, resp, body, 400, gen.ErrorCodeInvalidParameter); !strings.Contains(e.Message, "email") {
			t.Fatalf("message %q does not name 'email'", e.Message)
		}
	})
	t.Run("SQL in search", func(t *testing.T) {
		for _, q := range []string{`' OR 1=1 --`, `"`, `*`, `keep" OR "`, `NEAR(keep`, `keep AND`, `%`, `_`} {
			resp, body := call(t, "GET", srv.URL+"/leads?search="+urlQuery(q), srv.Key, "", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("search %q: %d %s", q, resp.StatusCode, body)
			}
		}
		resp, body := call(t, "GET", srv.URL+"/leads?search="+urlQuery(`' OR 1=1 --`), srv.Key, "", nil)
		var l gen.LeadList
		json.Unmarshal(body, &l)
		if resp.StatusCode != 200 || l.Length != 0 {
			t.Fatalf("an SQL fragment matched %d leads", l.Length)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		resp, body := call(t, http.MethodPut, srv.URL+"/leads", srv.Key, "", nil)
		wantError(t, resp, body, http.StatusMethodNotAllowed, gen.ErrorCodeMethodNotAllowed)
		if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
			t.Fatalf("Allow %q", allow)
		}
	})
	t.Run("nothing stored was lost", func(t *testing.T) {
		g, _ := c.GetLeadWithResponse(context.Background(), keepID)
		if g.StatusCode() != 200 || g.JSON200.Data.Name != "Keep" {
			t.Fatalf("stored lead after bad input: %s", g.Body)
		}
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "&", "%26", "#", "%23", "+", "%2B", `"`, "%22", "'", "%27").Replace(s)
}

func TestRateLimit(t *testing.T) {
	srv := newServer(t) // Starter: 60/min, burst 100
	start := time.Now()
	for i := range 100 {
		resp, body := call(t, "GET", srv.URL+"/leads?limit=1", srv.Key, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
		limit, remaining, _ := wantRateHeaders(t, resp.Header)
		if limit != 60 {
			t.Fatalf("X-RateLimit-Limit %d, want 60", limit)
		}
		// Starter refills one request a second: allow what has elapsed.
		refill := int(time.Since(start)/time.Second) + 1
		if want := 99 - i; remaining < want || remaining > want+refill {
			t.Fatalf("request %d: remaining %d, want %d to %d", i+1, remaining, want, want+refill)
		}
	}
	// Spend what refilled meanwhile; a slow machine may have refilled a few.
	resp, body := call(t, "GET", srv.URL+"/leads", srv.Key, "", nil)
	for spare := 0; resp.StatusCode == 200 && spare < int(time.Since(start)/time.Second)+1; spare++ {
		resp, body = call(t, "GET", srv.URL+"/leads", srv.Key, "", nil)
	}
	wantError(t, resp, body, http.StatusTooManyRequests, gen.ErrorCodeRateLimitExceeded)
	_, remaining, _ := wantRateHeaders(t, resp.Header)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || retry < 1 || remaining != 0 {
		t.Fatalf("Retry-After %q, remaining %d", resp.Header.Get("Retry-After"), remaining)
	}
	time.Sleep(time.Duration(retry) * time.Second)
	resp, body = call(t, "GET", srv.URL+"/leads", srv.Key, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d %s", resp.StatusCode, body)
	}
	// Other accounts have their own buckets.
	other := srv.NewAccountKey(t, axiom.PlanStarter)
	if resp, _ := call(t, "GET", srv.URL+"/leads", other, "", nil); resp.StatusCode != 200 {
		t.Fatalf("another account was limited: %d", resp.StatusCode)
	}
}

func TestIdempotentRetries(t *testing.T) {
	srv := newServer(t)
	body := `{"name":"Idem","email":"idem@example.com"}`
	post := func(key, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", srv.URL+"/leads/add", strings.NewReader(body))
		req.Header.Set("X-API-Key", srv.Key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	r1, b1 := post("k-1", body)
	r2, b2 := post("k-1", body)
	if r1.StatusCode != 201 || r2.StatusCode != 201 || string(b1) != string(b2) {
		t.Fatalf("replay: %d %s / %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	wantRateHeaders(t, r2.Header)
	r3, b3 := post("k-1", `{"name":"Other","email":"other@example.com"}`)
	wantError(t, r3, b3, http.StatusUnprocessableEntity, gen.ErrorCodeIdempotencyKeyReused)
	// Without the key, the same body is a second create: a duplicate.
	r4, b4 := call(t, "POST", srv.URL+"/leads/add", srv.Key, "application/json", strings.NewReader(body))
	wantError(t, r4, b4, http.StatusUnprocessableEntity, gen.ErrorCodeDuplicateEntry)
}

func TestPublicEndpoints(t *testing.T) {
	srv := newServer(t)
	base := strings.TrimSuffix(srv.URL, "/v1")
	for _, tc := range []struct{ path, contains string }{
		{"/healthz", `"ok"`},
		{"/readyz", `"ok"`},
		{"/openapi.yaml", "openapi: 3.0.3"},
		{"/docs/", "swagger"},
	} {
		resp, body := call(t, "GET", base+tc.path, "", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), strings.ToLower(tc.contains)) {
			t.Fatalf("%s: %d %.200s", tc.path, resp.StatusCode, body)
		}
	}
	// /openapi.yaml is the contract byte for byte; the docs load a copy
	// whose first server is the one they are served from.
	if _, body := call(t, "GET", base+"/openapi.yaml", "", "", nil); !bytes.Equal(body, axiom.OpenAPI) {
		t.Error("/openapi.yaml is not openapi.yaml byte for byte")
	}
	if _, body := call(t, "GET", base+"/docs/", "", "", nil); !strings.Contains(string(body), "/docs/openapi.yaml") {
		t.Errorf("/docs/ does not load /docs/openapi.yaml:\n%.500s", body)
	}
	for _, host := range []string{"", "docs.example.com:9000"} {
		req, _ := http.NewRequest("GET", base+"/docs/openapi.yaml", nil)
		want := srv.URL
		if host != "" {
			req.Host, want = host, "http://"+host+"/v1"
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		doc, err := openapi3.NewLoader().LoadFromData(body)
		if resp.StatusCode != 200 || err != nil || len(doc.Servers) == 0 || doc.Servers[0].URL != want {
			t.Fatalf("/docs/openapi.yaml with Host %q: %d, %v; want %s first", host, resp.StatusCode, err, want)
		}
	}
}

package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server"
)

// fuzzServer is the real handler over an in-memory database, with the keys a
// fuzzed request may send. Rate limiting is off: it has its own tests, and a
// fuzzer would only meet 429s after the first hundred inputs.
type fuzzServer struct {
	h                  http.Handler
	st                 *sqlite.DB
	account            string
	key, readOnly, rev string
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:", sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	camps, err := campaign.NewService(campaign.Config{Store: st, PublicURL: "http://localhost/v1"})
	if err != nil {
		f.Fatal(err)
	}
	h, err := server.New(server.Config{Leads: st, Templates: st, Properties: st, Analytics: st, Keys: st, Idempotency: st, Campaigns: camps,
		Responses: validation.ResponseEnforce})
	if err != nil {
		f.Fatal(err)
	}
	acc := axiom.NewAccount(axiom.PlanStarter, time.Now())
	if err := st.CreateAccount(ctx, acc); err != nil {
		f.Fatal(err)
	}
	newKey := func(readOnly bool) (axiom.Key, string) {
		k, secret := axiom.NewKey(acc.ID, "fuzz", readOnly, time.Now())
		if err := st.CreateKey(ctx, k); err != nil {
			f.Fatal(err)
		}
		return k, secret
	}
	s := &fuzzServer{h: h, st: st, account: acc.ID}
	_, s.key = newKey(false)
	_, s.readOnly = newKey(true)
	revoked, rev := newKey(false)
	if err := st.RevokeKey(ctx, revoked.ID, time.Now()); err != nil {
		f.Fatal(err)
	}
	s.rev = rev
	return s
}

// Which key headers a fuzzed request carries.
const (
	keyNone = iota
	keyValid
	keyValidAxiom // the valid key in X-Axiom-API-Key
	keyReadOnly
	keyRevoked
	keyJunk // junk in X-API-Key
	keyJunkAndValid
	keyKinds
)

// rawRequest is the request a client would put on the wire. Parsing it with
// http.ReadRequest gives the handler exactly what net/http's server would,
// and skips what that server refuses before any handler runs.
func (s *fuzzServer) rawRequest(method, target string, keyKind uint8, junk, contentType, idemKey, headers string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: axiom.test\r\n", method, target)
	switch keyKind % keyKinds {
	case keyValid:
		fmt.Fprintf(&b, "X-API-Key: %s\r\n", s.key)
	case keyValidAxiom:
		fmt.Fprintf(&b, "X-Axiom-API-Key: %s\r\n", s.key)
	case keyReadOnly:
		fmt.Fprintf(&b, "X-API-Key: %s\r\n", s.readOnly)
	case keyRevoked:
		fmt.Fprintf(&b, "X-Axiom-API-Key: %s\r\n", s.rev)
	case keyJunk:
		fmt.Fprintf(&b, "X-API-Key: %s\r\n", junk)
	case keyJunkAndValid:
		fmt.Fprintf(&b, "X-API-Key: %s\r\nX-Axiom-API-Key: %s\r\n", junk, s.key)
	}
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	if idemKey != "" {
		fmt.Fprintf(&b, "Idempotency-Key: %s\r\n", idemKey)
	}
	for line := range strings.Lines(headers) {
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			b.WriteString(line + "\r\n")
		}
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// FuzzRequest sends any method, path, headers and body through the real
// handler: the answer is a 2xx, a documented 3xx or a 4xx in the error
// envelope, never a 5xx, never a panic.
func FuzzRequest(f *testing.F) {
	s := newFuzzServer(f)
	// The committed corpus is in testdata/fuzz/FuzzRequest; these few keep
	// `go test` exercising each route even without it.
	for _, seed := range []struct {
		method, target string
		key            uint8
		ct             string
		body           string
	}{
		{"GET", "/v1/leads?page=1&limit=20&sort=name&order=asc", keyValid, "", ""},
		{"POST", "/v1/leads/add", keyValid, "application/json", `{"name":"Jane Doe","email":"jane@example.com"}`},
		{"PATCH", "/v1/leads/cnt_x", keyValidAxiom, "application/json", `{"status":"inactive"}`},
		{"POST", "/v1/templates/add", keyValid, "application/json", `{"name":"T","subject":"S","content":"C"}`},
		{"GET", "/v1/t/c/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", keyNone, "", ""},
		{"POST", "/v1/u/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", keyNone, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		{"POST", "/v1/u/Qm9fX2Jx3lH8rK2pV7sT1wYz4uA6cE9d", keyNone, "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n"},
		{"POST", "/v1/suppressions/add", keyValid, "application/json", `{"email":"jane@example.com","reason":"bounced","detail":"550"}`},
		{"DELETE", "/v1/suppressions/a%2Fb@example.com", keyValid, "", ""},
		{"GET", "/healthz", keyNone, "", ""},
		{"HEAD", "*", keyNone, "", ""},
		{"HEAD", "/v1/nowhere", keyValid, "", ""},
	} {
		f.Add(seed.method, seed.target, seed.key, "", seed.ct, "", "", []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, method, target string, keyKind uint8, junk, contentType, idemKey, headers string, body []byte) {
		raw := s.rawRequest(method, target, keyKind, junk, contentType, idemKey, headers, body)
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil || !validForServer(r) {
			return // net/http's server answers these itself
		}
		r.RemoteAddr = "127.0.0.1:1234"
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		checkResponse(t, r, w.Result().StatusCode, w.Header(), w.Body.Bytes())
	})
}

// validForServer repeats the checks net/http's server makes after parsing a
// request and before calling the handler.
func validForServer(r *http.Request) bool {
	if len(r.Header["Host"]) > 1 || r.ProtoMajor != 1 {
		return false
	}
	// The server answers 417 to any expectation but 100-continue.
	if e := r.Header.Get("Expect"); e != "" && !strings.EqualFold(e, "100-continue") {
		return false
	}
	return true
}

// checkResponse asserts the rules every answer of the server follows.
func checkResponse(t *testing.T, r *http.Request, status int, h http.Header, body []byte) {
	t.Helper()
	req := fmt.Sprintf("%s %q", r.Method, r.RequestURI)
	switch {
	case status >= 200 && status < 300:
	case status == http.StatusFound && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/t/c/"):
		// The documented redirect of a tracked link.
	case status == http.StatusNotModified && strings.HasPrefix(r.URL.Path, "/docs/") &&
		(r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""):
		// The documentation's assets are cached by their ETag.
	case status == http.StatusMovedPermanently && strings.HasPrefix(r.URL.Path, "/docs/"):
		// The documentation's file server sends …/index.html to …/; never
		// anywhere else.
		if loc := h.Get("Location"); loc != "./" {
			t.Fatalf("%s: redirected to %q", req, loc)
		}
	case status >= 400 && status < 500:
		checkEnvelope(t, req, r.Method, status, h, body)
	default:
		t.Fatalf("%s: status %d: %s", req, status, body)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%s: status %d without X-Content-Type-Options: nosniff", req, status)
	}
}

// checkEnvelope asserts that a 4xx is the API's error envelope, and nothing else.
func checkEnvelope(t *testing.T, req, method string, status int, h http.Header, body []byte) {
	t.Helper()
	if method == http.MethodHead {
		if len(body) != 0 {
			t.Fatalf("%s: status %d with a body: %q", req, status, body)
		}
		return
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: status %d with Content-Type %q: %.300s", req, status, ct, body)
	}
	var env struct {
		Error *struct {
			Code             gen.ErrorCode `json:"code"`
			Message          string        `json:"message"`
			DocumentationURL string        `json:"documentation_url"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil || dec.More() {
		t.Fatalf("%s: status %d, body is not the error envelope (%v): %.300s", req, status, err, body)
	}
	e := env.Error
	if !e.Code.Valid() || e.Message == "" || e.DocumentationURL != axiom.DocsBase+string(e.Code) {
		t.Fatalf("%s: status %d, bad envelope: %.300s", req, status, body)
	}
	if status == http.StatusTooManyRequests || status == http.StatusMethodNotAllowed {
		name := map[int]string{429: "Retry-After", 405: "Allow"}[status]
		if h.Get(name) == "" {
			t.Fatalf("%s: status %d without %s", req, status, name)
		}
	}
}

// FuzzCreateLead sends any body to POST /v1/leads/add with a valid key: a
// 201 stores exactly the lead the body describes, anything else is a 4xx.
func FuzzCreateLead(f *testing.F) {
	s := newFuzzServer(f)
	for _, body := range []string{
		`{"name":"Jane Doe","email":"jane.doe@example.com","phone":"+11235550199","type":"lead","source":"API","notes":["seller"],"custom_fields":{"property_type":"Office Space"}}`,
		`{"name":"A","email":"a@example.com","tags":["x","y"],"status":"inactive"}`,
		`{"name":"A","email":"a@example.com","email":"not an email"}`,
		`{"name":1e400,"email":"b@example.com"}`,
		`{"name":"\u00e9\u0000\ud800","email":"c@example.com"}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/leads/add", bytes.NewReader(body))
		r.Header.Set("X-API-Key", s.key)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, r)
		checkResponse(t, r, w.Code, w.Header(), w.Body.Bytes())
		if w.Code != http.StatusCreated {
			return
		}
		var sent gen.LeadCreate
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("a body Go cannot decode was created (%v): %s", err, body)
		}
		var got gen.LeadEnvelope
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		l := got.Data
		want := gen.Lead{
			ID: l.ID, Name: sent.Name, Email: sent.Email, Phone: deref(sent.Phone, ""),
			Company: deref(sent.Company, ""), Source: deref(sent.Source, ""),
			Type: deref(sent.Type, gen.LeadTypeLead), Status: deref(sent.Status, gen.LeadStatusActive),
			Tags: deref(sent.Tags, []string{}), Notes: deref(sent.Notes, []string{}),
			CustomFields: deref(sent.CustomFields, gen.CustomFields{}),
			CreatedAt:    l.CreatedAt, UpdatedAt: l.UpdatedAt,
		}
		if !reflect.DeepEqual(l, want) {
			t.Fatalf("sent %s\nanswered %+v\nwant     %+v", body, l, want)
		}
		// What a later read returns is what the 201 said.
		g := httptest.NewRequest(http.MethodGet, "/v1/leads/"+l.ID, nil)
		g.Header.Set("X-API-Key", s.key)
		gw := httptest.NewRecorder()
		s.h.ServeHTTP(gw, g)
		var read gen.LeadEnvelope
		if err := json.Unmarshal(gw.Body.Bytes(), &read); gw.Code != http.StatusOK || err != nil || !reflect.DeepEqual(read.Data, l) {
			t.Fatalf("GET after create: %d %s, created %+v", gw.Code, gw.Body, l)
		}
		// Free the email, so that later inputs may reuse it.
		if err := s.st.DeleteLead(context.Background(), s.account, l.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

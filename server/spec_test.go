package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/genserver"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/server"
)

// TestSharedSpecIsOnlyRead checks what Config.Spec promises: servers built
// and used at once on one document leave it as it was (and, under the race
// detector, do not write it at all).
func TestSharedSpecIsOnlyRead(t *testing.T) {
	doc, err := genserver.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	before, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type running struct {
		url, key string
	}
	servers := make([]running, 3)
	var wg sync.WaitGroup
	for i := range servers {
		db, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		_, secret := newAccount(t, db, axiom.PlanEnterprise)
		wg.Go(func() {
			s := newHandler(t, db, server.Config{Spec: doc})
			hs := httptest.NewServer(s)
			t.Cleanup(hs.Close)
			servers[i] = running{hs.URL, secret}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	requests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/v1/leads?limit=20", "", 200},
		{"GET", "/v1/leads?limit=0", "", 400},
		{"POST", "/v1/leads/add", `{"name":"Jane Doe","email":"jane@example.com","tags":["a","a"]}`, 400},
		{"POST", "/v1/leads/add", `{"name":"Jane Doe","email":"jane@example.com"}`, 201},
		{"GET", "/v1/leads/cnt_missing", "", 404},
		{"DELETE", "/v1/leads", "", 405},
		{"GET", "/v1/nowhere", "", 404},
	}
	for _, s := range servers {
		wg.Go(func() {
			for _, r := range requests {
				req, _ := http.NewRequest(r.method, s.url+r.path, strings.NewReader(r.body))
				req.Header.Set("X-API-Key", s.key)
				if r.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != r.want {
					t.Errorf("%s %s: %d, want %d", r.method, r.path, resp.StatusCode, r.want)
				}
			}
		})
	}
	wg.Wait()
	after, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the shared spec changed while servers were built and used")
	}
}

// TestLoadSpecIsGetSwagger checks that reading the embedded description as
// JSON gives the document kin-openapi's loader gives.
func TestLoadSpecIsGetSwagger(t *testing.T) {
	fast, err := server.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	slow, err := genserver.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	a, err := json.Marshal(fast)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(slow)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("LoadSpec and genserver.GetSwagger differ:\n%s\n%s", a, b)
	}
	// References are resolved: the validator and the router need the values.
	if s := fast.Paths.Find("/leads").Get.Responses.Status(200).Value.Content.Get("application/json").Schema; s.Value == nil || s.Ref == "" {
		t.Fatalf("the list's schema is not a resolved reference: %+v", s)
	}
}

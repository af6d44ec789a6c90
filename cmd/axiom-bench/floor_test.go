package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// The floor answers the three requests from a seeded database: a full page
// newest first, a page of matches, a durable create and a duplicate refused.
func TestFloorHandler(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.db")
	keys, err := seed(context.Background(), path, 200)
	if err != nil {
		t.Fatal(err)
	}
	f, db, err := openFloor(path, keys.ReadAccount, keys.WriteAccount)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := httptest.NewServer(f.handler())
	defer srv.Close()

	get := func(path string) floorPage {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p floorPage
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := get("/v1/leads?limit=20")
	if p.Length != 20 || len(p.Data) != 20 || !p.HasMore {
		t.Fatalf("list: length %d, %d leads, has_more %v", p.Length, len(p.Data), p.HasMore)
	}
	for i, l := range p.Data {
		if len(l.Tags) == 0 || i > 0 && l.CreatedAt.After(p.Data[i-1].CreatedAt) {
			t.Fatalf("lead %d: %+v", i, l)
		}
	}
	s := get("/v1/leads?search=" + searchWord + "&limit=5")
	if s.Length == 0 {
		t.Fatal("search found nothing")
	}
	for _, l := range s.Data {
		if !strings.Contains(strings.ToLower(l.Name), searchWord) {
			t.Errorf("search gave %q", l.Name)
		}
	}
	for i, want := range []int{http.StatusCreated, http.StatusConflict} {
		resp, err := http.Post(srv.URL+"/v1/leads/add", "application/json", strings.NewReader(string(newLead(7))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("add %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM leads WHERE account_id = ?", keys.WriteAccount).Scan(&n); err != nil || n != 1 {
		t.Fatalf("leads in the write account: %d, %v", n, err)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"
)

// comparedPaths are the pages the floor must answer as axiom does: the
// list and the search the load run drives.
var comparedPaths = []string{"/v1/leads?limit=20", "/v1/leads?search=" + searchWord + "&limit=20"}

// samePages checks that the floor at floorAddr answers each compared page
// with the leads axiom at axiomAddr answers, in the same order and field
// for field, so that the run compares the same work.
func samePages(floorAddr, axiomAddr string, keys seeded) error {
	for _, path := range comparedPaths {
		want, err := getPage(axiomAddr, path, keys.ReadKey)
		if err != nil {
			return fmt.Errorf("axiom: %w", err)
		}
		got, err := getPage(floorAddr, path, "")
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		if err := comparePages(got, want); err != nil {
			return fmt.Errorf("GET %s: the floor's page is not axiom's: %w", path, err)
		}
	}
	return nil
}

// getPage is the page at path, decoded as JSON values.
func getPage(addr, path, key string) (map[string]any, error) {
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return p, nil
}

// comparePages says how got differs from want: in a member of the page, or
// in a lead, named by its place and field.
func comparePages(got, want map[string]any) error {
	for k, v := range want {
		if k == "data" {
			continue
		}
		if !reflect.DeepEqual(got[k], v) {
			return fmt.Errorf("%s is %v, want %v", k, got[k], v)
		}
	}
	gd, _ := got["data"].([]any)
	wd, _ := want["data"].([]any)
	if len(wd) == 0 {
		return fmt.Errorf("axiom's page holds no lead")
	}
	if len(gd) != len(wd) {
		return fmt.Errorf("%d leads, want %d", len(gd), len(wd))
	}
	for i := range wd {
		g, _ := gd[i].(map[string]any)
		w, _ := wd[i].(map[string]any)
		if g["id"] != w["id"] {
			return fmt.Errorf("lead %d is %v, want %v", i, g["id"], w["id"])
		}
		for k, v := range w {
			if !reflect.DeepEqual(g[k], v) {
				return fmt.Errorf("lead %d (%v): %s is %v, want %v", i, w["id"], k, g[k], v)
			}
		}
		for k, v := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("lead %d (%v): %s is %v, which axiom leaves out", i, w["id"], k, v)
			}
		}
	}
	return nil
}

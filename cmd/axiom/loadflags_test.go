package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeRequestValidationOff checks the load-run switch: said loudly,
// and requests the spec refuses reach the handlers.
func TestServeRequestValidationOff(t *testing.T) {
	tooLong := "/v1/leads?search=" + strings.Repeat("x", 201) // the spec's maxLength is 200
	for _, tt := range []struct {
		value string
		env   bool
		want  int
		loud  bool
	}{
		{"on", false, 400, false},
		{"off", false, 200, true},
		{"off", true, 200, true},
	} {
		t.Run(tt.value, func(t *testing.T) {
			var args []string
			if tt.env {
				t.Setenv("AXIOM_REQUEST_VALIDATION", tt.value)
			} else {
				args = []string{"--request-validation", tt.value}
			}
			db := filepath.Join(t.TempDir(), "axiom.db")
			addr, stdout, stderr, stop := startServe(t, append([]string{"--db", db}, args...)...)
			defer stop()
			key := keyRE.FindString(stdout.String())
			if got := get(t, "http://"+addr+tooLong, key); got != tt.want {
				t.Errorf("a search longer than the spec allows: %d, want %d", got, tt.want)
			}
			if loud := strings.Contains(stderr.String(), "REQUEST VALIDATION IS OFF"); loud != tt.loud {
				t.Errorf("warning logged: %v, want %v:\n%s", loud, tt.loud, stderr.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--request-validation", "sometimes"}, &out, &errOut); err == nil {
		t.Error("--request-validation sometimes: no error")
	}
}

// TestServeKeyCache checks how long a key revoked by `axiom keys revoke`
// keeps working in a running server: until its cache entry expires.
func TestServeKeyCache(t *testing.T) {
	for _, tt := range []struct {
		ttl  string
		want int // right after the revocation
	}{
		{"0", 401},
		{"1m", 200}, // the longest allowed
	} {
		t.Run(tt.ttl, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "axiom.db")
			addr, stdout, _, stop := startServe(t, "--db", db, "--key-cache", tt.ttl)
			defer stop()
			key := keyRE.FindString(stdout.String())
			if got := get(t, "http://"+addr+"/v1/leads", key); got != 200 {
				t.Fatalf("the first key: %d", got)
			}
			var list, out, errOut bytes.Buffer
			if err := run(context.Background(), []string{"keys", "list", "--db", db}, &list, &errOut); err != nil {
				t.Fatalf("keys list: %v\n%s", err, errOut.String())
			}
			id := regexp.MustCompile(`key_[0-9A-Za-z]+`).FindString(list.String())
			if err := run(context.Background(), []string{"keys", "revoke", "--db", db, id}, &out, &errOut); err != nil {
				t.Fatalf("keys revoke: %v\n%s", err, errOut.String())
			}
			if got := get(t, "http://"+addr+"/v1/leads", key); got != tt.want {
				t.Fatalf("the key just revoked, --key-cache %s: %d, want %d", tt.ttl, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"soon", "-1s", "61s", "1h"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"serve", "--key-cache", bad}, &out, &errOut); err == nil {
			t.Errorf("--key-cache %s: no error", bad)
		}
	}
}

// --gc-percent sets the collector's target; left empty, a GOGC of the
// environment stays in force and otherwise the default applies.
func TestGCPercent(t *testing.T) {
	for _, tt := range []struct {
		flag, env string
		want      int
		set       bool
		bad       bool
	}{
		{flag: "", env: "", want: defaultGCPercent, set: true},
		{flag: "", env: "50"},
		{flag: "200", env: "50", want: 200, set: true},
		{flag: "off", want: -1, set: true},
		{flag: "0", bad: true},
		{flag: "-5", bad: true},
		{flag: "lots", bad: true},
	} {
		got, set, err := gcPercent(tt.flag, tt.env)
		if (err != nil) != tt.bad || got != tt.want || set != tt.set {
			t.Errorf("gcPercent(%q, %q) = %d, %v, %v; want %d, %v, error %v", tt.flag, tt.env, got, set, err, tt.want, tt.set, tt.bad)
		}
	}
}

package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlite"
)

// clock is a settable time for the key cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestKeyCacheRevocation checks how long a revoked key keeps working: not
// at all without a cache, up to the TTL with one.
func TestKeyCacheRevocation(t *testing.T) {
	for _, tt := range []struct {
		name string
		ttl  time.Duration
		// want: the status right after revocation, then after the TTL.
		afterRevoke, afterTTL int
	}{
		{"no cache", 0, 401, 401},
		{"cache", time.Minute, 200, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "axiom.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			s := newTestServer(t, db, Config{KeyCacheTTL: tt.ttl})
			clk := &clock{now: time.Now()}
			if s.keyCache != nil {
				s.keyCache.now = clk.Now
			}
			hs := httptest.NewServer(s)
			t.Cleanup(hs.Close)

			acc := axiom.NewAccount(axiom.PlanStarter, time.Now())
			if err := db.CreateAccount(ctx, acc); err != nil {
				t.Fatal(err)
			}
			newKey := func() (axiom.Key, string) {
				k, secret := axiom.NewKey(acc.ID, "test", false, time.Now())
				if err := db.CreateKey(ctx, k); err != nil {
					t.Fatal(err)
				}
				return k, secret
			}
			get := func(secret string) int {
				t.Helper()
				req, _ := http.NewRequest("GET", hs.URL+"/v1/leads", nil)
				req.Header.Set("X-API-Key", secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}

			used, usedSecret := newKey()
			unused, unusedSecret := newKey()
			if got := get(usedSecret); got != 200 {
				t.Fatalf("a valid key: %d", got)
			}
			for _, k := range []axiom.Key{used, unused} {
				if err := db.RevokeKey(ctx, k.ID, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if got := get(usedSecret); got != tt.afterRevoke {
				t.Errorf("a key used just before its revocation: %d, want %d", got, tt.afterRevoke)
			}
			if got := get(unusedSecret); got != 401 {
				t.Errorf("a key revoked before its first use: %d, want 401", got)
			}
			if got := get("axm_" + "0123456789012345678901234567890123456789"); got != 401 {
				t.Errorf("an unknown key: %d, want 401", got)
			}
			clk.Add(tt.ttl + time.Millisecond)
			if got := get(usedSecret); got != tt.afterTTL {
				t.Errorf("the revoked key once the TTL passed: %d, want %d", got, tt.afterTTL)
			}
		})
	}
}

func TestKeyCacheStaysBounded(t *testing.T) {
	c := newKeyCache(time.Minute)
	for i := range maxCachedKeys + 10 {
		c.put(axiom.HashSecret(string(rune(i))+"secret"), axiom.Principal{}, nil)
	}
	if n := len(c.keys); n > maxCachedKeys {
		t.Fatalf("%d keys cached, want at most %d", n, maxCachedKeys)
	}
	last := axiom.HashSecret(string(rune(maxCachedKeys+9)) + "secret")
	if _, _, ok := c.get(last); !ok {
		t.Fatal("the last key put is not cached")
	}
	if _, _, ok := c.get([]byte("short")); ok {
		t.Fatal("a malformed hash was found")
	}
	var none *keyCache
	none.put(last, axiom.Principal{}, nil)
	if _, _, ok := none.get(last); ok {
		t.Fatal("a nil cache found a key")
	}
}

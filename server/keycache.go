package server

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
)

// maxCachedKeys bounds the key cache; past it, it starts afresh.
const maxCachedKeys = 10000

// keyCache remembers for a short time the keys that authenticated, so that
// a busy key costs one database read per TTL rather than one per request.
// The price: a key revoked (or an account whose plan changed) in the
// database is still honoured for up to the TTL by a server that admitted
// it just before.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.RWMutex
	keys map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	p       axiom.Principal
	expires time.Time
}

// newKeyCache returns a cache keeping keys for ttl, or nil (no cache) when
// ttl is not positive.
func newKeyCache(ttl time.Duration) *keyCache {
	if ttl <= 0 {
		return nil
	}
	return &keyCache{ttl: ttl, now: time.Now, keys: make(map[[sha256.Size]byte]cachedKey)}
}

// get returns the principal of the key whose secret hashes to hash, if it
// authenticated less than the TTL ago.
func (c *keyCache) get(hash []byte) (axiom.Principal, bool) {
	if c == nil || len(hash) != sha256.Size {
		return axiom.Principal{}, false
	}
	c.mu.RLock()
	k, ok := c.keys[[sha256.Size]byte(hash)]
	c.mu.RUnlock()
	if !ok || !c.now().Before(k.expires) {
		return axiom.Principal{}, false
	}
	return k.p, true
}

// put records a key that has just authenticated.
func (c *keyCache) put(hash []byte, p axiom.Principal) {
	if c == nil || len(hash) != sha256.Size {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= maxCachedKeys {
		for h, k := range c.keys {
			if !now.Before(k.expires) {
				delete(c.keys, h)
			}
		}
		if len(c.keys) >= maxCachedKeys {
			clear(c.keys)
		}
	}
	c.keys[[sha256.Size]byte(hash)] = cachedKey{p: p, expires: now.Add(c.ttl)}
}

// forget drops every cached key, so that the next request of each reads
// the store: after the data was reset under it.
func (c *keyCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.keys)
	c.mu.Unlock()
}

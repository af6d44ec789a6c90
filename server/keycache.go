package server

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/axiomkit/axiom"
)

// maxCachedKeys bounds the key cache; past it, it starts afresh.
const maxCachedKeys = 10000

// keyCache remembers for a short time the keys that authenticated, and
// those that did not, so that a busy key, or a client repeating a wrong
// one, costs one database read per TTL rather than one per request. The
// price: a key revoked (or an account whose plan changed) in the database
// is still honoured for up to the TTL by a server that admitted it just
// before.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.RWMutex
	keys map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	p       axiom.Principal
	refused *axiom.Error // why the key was refused; nil for a valid key
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

// get returns the principal of the key whose secret hashes to hash, or
// why it was refused, if it was looked up less than the TTL ago.
func (c *keyCache) get(hash []byte) (axiom.Principal, *axiom.Error, bool) {
	if c == nil || len(hash) != sha256.Size {
		return axiom.Principal{}, nil, false
	}
	c.mu.RLock()
	k, ok := c.keys[[sha256.Size]byte(hash)]
	c.mu.RUnlock()
	if !ok || !c.now().Before(k.expires) {
		return axiom.Principal{}, nil, false
	}
	return k.p, k.refused, true
}

// put records a key that has just authenticated as p, or been refused.
func (c *keyCache) put(hash []byte, p axiom.Principal, refused *axiom.Error) {
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
	c.keys[[sha256.Size]byte(hash)] = cachedKey{p: p, refused: refused, expires: now.Add(c.ttl)}
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

package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	// numShards spreads keys over independent locks; a power of two.
	numShards = 64
	// minSweepOps is how many decisions a shard makes, at least, between
	// two sweeps, so that a shard with few keys is not swept on every call.
	// Beyond it a shard sweeps after as many decisions as it held buckets
	// after its last sweep, so a sweep costs O(1) per decision even when
	// every decision adds a key.
	minSweepOps = 1024
	// minShrink is the peak size under which a shard's map is never
	// reallocated after a sweep: small maps are not worth copying.
	minShrink = 1024
)

// Option configures NewMemory and NewUnlimited.
type Option func(*options)

type options struct {
	clock func() time.Time
}

// WithClock makes the limiter read now from clock instead of time.Now.
func WithClock(clock func() time.Time) Option {
	return func(o *options) { o.clock = clock }
}

func newOptions(opts []Option) options {
	o := options{clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Memory is a Limiter keeping its buckets in process memory; safe for
// concurrent use. A bucket is dropped once it is full again, by a sweep that
// Allow runs on a shard now and then at a constant cost per decision, or by
// Sweep. It starts no goroutine.
type Memory struct {
	clock  func() time.Time
	seed   maphash.Seed
	shards [numShards]shard
}

type shard struct {
	mu   sync.Mutex
	tats map[string]int64 // key → TAT in Unix nanoseconds
	ops  int              // decisions since the last sweep
	base int              // len(tats) after the last sweep
	peak int              // largest len(tats) since the map was allocated
	_    [64]byte         // keeps neighbouring shards' locks off one cache line
}

// NewMemory returns an empty in-memory limiter.
func NewMemory(opts ...Option) *Memory {
	o := newOptions(opts)
	m := &Memory{clock: o.clock, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tats = make(map[string]int64)
	}
	return m
}

// Allow decides one request on key's bucket under l. It never blocks, so ctx
// is not consulted.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	s := &m.shards[maphash.String(m.seed, key)&(numShards-1)]
	s.mu.Lock()
	defer s.mu.Unlock()
	// Read under the lock so that a key's decisions see a non-decreasing clock.
	now := m.clock()
	tat, seen := s.tats[key]
	next, r := gcra(tat, now, l)
	if r.Allowed {
		s.tats[key] = next
		if !seen {
			s.peak = max(s.peak, len(s.tats))
		}
	}
	if s.ops++; s.ops >= max(s.base, minSweepOps) {
		s.sweep(now.UnixNano())
	}
	return r, nil
}

// Sweep drops every bucket that is full again at the limiter's now and
// returns how many it dropped. Allow sweeps by itself; Sweep is for a server
// that would rather free idle buckets on a ticker of its own.
func (m *Memory) Sweep() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.sweep(m.clock().UnixNano())
		s.mu.Unlock()
	}
	return n
}

// Len returns how many buckets are held, full ones not yet swept included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tats)
		s.mu.Unlock()
	}
	return n
}

// sweep drops s's full buckets; s.mu must be held.
func (s *shard) sweep(now int64) int {
	n := 0
	for k, tat := range s.tats {
		if tat <= now {
			delete(s.tats, k)
			n++
		}
	}
	s.ops = 0
	s.base = len(s.tats)
	// Maps never give memory back, so copy one that has shrunk to a quarter.
	if s.peak > minShrink && len(s.tats) < s.peak/4 {
		tats := make(map[string]int64, len(s.tats))
		for k, tat := range s.tats {
			tats[k] = tat
		}
		s.tats = tats
		s.peak = len(tats)
	}
	return n
}

// Refill drops every bucket: each account's is full again at once, as at
// start. The reference server's admin reset uses it between tests.
func (m *Memory) Refill() {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		clear(s.tats)
		s.ops, s.base = 0, 0
		s.mu.Unlock()
	}
}

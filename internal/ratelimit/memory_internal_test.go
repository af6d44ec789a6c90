package ratelimit

import (
	"context"
	"hash/maphash"
	"strconv"
	"testing"
	"time"
)

// keysInShard returns n keys that land in key's shard of m.
func keysInShard(m *Memory, key string, n int) []string {
	want := maphash.String(m.seed, key) & (numShards - 1)
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := "k" + strconv.Itoa(i)
		if maphash.String(m.seed, k)&(numShards-1) == want {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestAllowSweeps checks that Allow alone drops full buckets, only full ones,
// and gives the map's memory back once it has shrunk.
func TestAllowSweeps(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := NewMemory(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	quick := Limit{Rate: 60, Burst: 10}    // full 1 s after one request
	slow := Limit{Rate: 1, Burst: 10}      // full 1 min after one request
	hot := Limit{Rate: 60, Burst: 1 << 20} // admits every request of the test
	keys := keysInShard(m, "hot", 4*minShrink+1)
	s := &m.shards[maphash.String(m.seed, "hot")&(numShards-1)]
	slowKeys := keys[:minShrink/2]
	for i, k := range keys {
		l := quick
		if i < len(slowKeys) {
			l = slow
		}
		m.Allow(ctx, k, l)
	}
	held := len(s.tats)
	if held != len(keys) {
		t.Fatalf("shard holds %d buckets, want %d", held, len(keys))
	}
	peak := s.peak
	now = now.Add(2 * time.Second)
	// Enough decisions on one key to trigger the shard's sweep.
	for range max(s.base, minSweepOps) + 1 {
		if r, err := m.Allow(ctx, "hot", hot); err != nil || !r.Allowed {
			t.Fatalf("hot: %+v, %v", r, err)
		}
	}
	if got, want := len(s.tats), len(slowKeys)+1; got != want {
		t.Errorf("after the sweep the shard holds %d buckets, want the %d slow ones and hot", got, want)
	}
	if s.peak >= peak {
		t.Errorf("peak %d after dropping %d of %d buckets: the map was not reallocated", s.peak, held-len(s.tats), held)
	}
	for _, k := range slowKeys {
		if r, _ := m.Allow(ctx, k, slow); r.Remaining == slow.Burst-1 {
			t.Fatalf("%s: Remaining %d, as a fresh bucket: it was dropped before it was full", k, r.Remaining)
		}
	}
}

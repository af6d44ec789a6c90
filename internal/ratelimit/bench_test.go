package ratelimit_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/ratelimit"
)

// manyKeys is how many accounts the many-key benchmarks spread requests over.
const manyKeys = 100_000

func benchKeys() []string {
	keys := make([]string, manyKeys)
	for i := range keys {
		keys[i] = "acct-" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkMemoryAllow measures Allow with the real clock, so time.Now is
// part of the cost, as in the server.
func BenchmarkMemoryAllow(b *testing.B) {
	ctx := context.Background()
	l := ratelimit.PlanLimit(axiom.PlanEnterprise)
	b.Run("HotKey", func(b *testing.B) {
		m := ratelimit.NewMemory()
		b.ReportAllocs()
		for b.Loop() {
			m.Allow(ctx, "acct", l)
		}
	})
	b.Run("ManyKeys", func(b *testing.B) {
		m := ratelimit.NewMemory()
		keys := benchKeys()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Allow(ctx, keys[i%manyKeys], l)
			i++
		}
	})
	b.Run("ParallelHotKey", func(b *testing.B) {
		m := ratelimit.NewMemory()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Allow(ctx, "acct", l)
			}
		})
	})
	b.Run("ParallelManyKeys", func(b *testing.B) {
		m := ratelimit.NewMemory()
		keys := benchKeys()
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine walks the keys from its own offset.
			i := int(next.Add(manyKeys / 8))
			for pb.Next() {
				m.Allow(ctx, keys[i%manyKeys], l)
				i++
			}
		})
	})
}

func BenchmarkUnlimitedAllow(b *testing.B) {
	ctx := context.Background()
	l := ratelimit.PlanLimit(axiom.PlanEnterprise)
	u := ratelimit.NewUnlimited()
	b.ReportAllocs()
	for b.Loop() {
		u.Allow(ctx, "acct", l)
	}
}

func BenchmarkSetHeaders(b *testing.B) {
	now := time.Unix(1_700_000_000, 1)
	r := ratelimit.Result{Limit: 300, RetryAfter: time.Nanosecond, At: now, ResetAt: now.Add(100 * time.Second)}
	h := make(http.Header, 4)
	b.ReportAllocs()
	for b.Loop() {
		r.SetHeaders(h)
	}
}

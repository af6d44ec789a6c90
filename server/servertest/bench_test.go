package servertest_test

import (
	"slices"
	"testing"

	"github.com/axiomkit/axiom/server/servertest"
)

// iteration is a testing.TB whose cleanups run at the end of one benchmark
// iteration, not of the whole benchmark.
type iteration struct {
	testing.TB
	cleanups []func()
}

func (it *iteration) Cleanup(f func()) { it.cleanups = append(it.cleanups, f) }

func (it *iteration) end() {
	for _, f := range slices.Backward(it.cleanups) {
		f()
	}
	it.cleanups = it.cleanups[:0]
}

// BenchmarkNew measures the start of the in-process test server, which
// every Go test using it pays: spec, validator, database, listener, account.
func BenchmarkNew(b *testing.B) {
	it := &iteration{TB: b}
	b.ReportAllocs()
	for b.Loop() {
		servertest.New(it)
		b.StopTimer()
		it.end()
		b.StartTimer()
	}
}

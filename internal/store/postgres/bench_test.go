package postgres

import (
	"fmt"
	"testing"

	"github.com/axiomkit/axiom/internal/pgtest"
	"github.com/axiomkit/axiom/internal/store/storetest"
)

// BenchmarkReset: the admin endpoint's reset on PostgreSQL, as on SQLite
// (internal/store/sqlite's BenchmarkReset).
func BenchmarkReset(b *testing.B) {
	for _, leads := range []int{0, 1000} {
		for _, busy := range []bool{false, true} {
			b.Run(fmt.Sprintf("leads=%d/busy=%v", leads+6, busy), func(b *testing.B) {
				db, err := Open(b.Context(), pgtest.Schema(b), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				storetest.BenchmarkReset(b, db, leads, busy)
			})
		}
	}
}

package modernc_test

import (
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/axiomkit/axiom/internal/store/sqlite/driverbench"
)

func open(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }

func BenchmarkInsert(b *testing.B) { driverbench.Insert(b, open) }
func BenchmarkList(b *testing.B)   { driverbench.List(b, open) }
func BenchmarkSearch(b *testing.B) { driverbench.Search(b, open) }

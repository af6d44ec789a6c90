package mattn_test

import (
	"database/sql"
	"testing"

	_ "github.com/mattn/go-sqlite3" // FTS5 needs -tags sqlite_fts5

	"github.com/axiomkit/axiom/internal/store/sqlite/driverbench"
)

func open(path string) (*sql.DB, error) { return sql.Open("sqlite3", path) }

func BenchmarkInsert(b *testing.B) { driverbench.Insert(b, open) }
func BenchmarkList(b *testing.B)   { driverbench.List(b, open) }
func BenchmarkSearch(b *testing.B) { driverbench.Search(b, open) }

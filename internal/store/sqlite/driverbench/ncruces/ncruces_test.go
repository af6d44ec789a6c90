package ncruces_test

import (
	"database/sql"
	"testing"

	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/axiomkit/axiom/internal/store/sqlite/driverbench"
)

// open registers FTS5 on each connection: this driver builds it as an
// extension, not into SQLite itself.
func open(path string) (*sql.DB, error) { return driver.Open(path, fts5.Register) }

func BenchmarkInsert(b *testing.B) { driverbench.Insert(b, open) }
func BenchmarkList(b *testing.B)   { driverbench.List(b, open) }
func BenchmarkSearch(b *testing.B) { driverbench.Search(b, open) }

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
	"github.com/axiomkit/axiom/internal/store/storetest"
)

// newAccount stores a new account on plan p.
func newAccount(tb testing.TB, db *DB, p axiom.Plan) axiom.Account {
	tb.Helper()
	a := axiom.NewAccount(p, time.Now())
	if err := db.CreateAccount(tb.Context(), a); err != nil {
		tb.Fatal(err)
	}
	return a
}

// insertLead inserts l as it is in tx, a transaction of the writer: for
// loading many leads at once.
func insertLead(ctx context.Context, db *DB, tx *sql.Tx, l axiom.Lead) error {
	return sqlstore.InsertLead(ctx, db.Store, tx, l)
}

var (
	firstNames = []string{"John", "Jane", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Kofi", "Yuki", "Sam", "Eva"}
	lastNames  = []string{"Smith", "Doe", "García", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Mensah", "Sato", "Brown", "Novak"}
	companies  = []string{"Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli", ""}
	tagWords   = []string{"buyer", "seller", "residential", "commercial", "vip", "cold", "warm", "investor"}
)

// benchLead is the i-th of a deterministic set of varied leads.
func benchLead(r *rand.Rand, accountID string, i int) axiom.Lead {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	return axiom.Lead{
		AccountID: accountID,
		Name:      first + " " + last,
		Email:     fmt.Sprintf("%s.%s%d@example.com", first, last, i),
		Phone:     fmt.Sprintf("+1%010d", r.Int64N(1e10)),
		Company:   companies[r.IntN(len(companies))],
		Type:      "lead",
		Status:    "active",
		Source:    "website",
		Tags:      []string{tagWords[r.IntN(len(tagWords))], tagWords[r.IntN(len(tagWords))]},
		Notes:     []string{"Met at the fair"},
		CustomFields: map[string]string{
			"budget": fmt.Sprint(r.IntN(1000)) + "k",
		},
	}
}

// seedLeads opens a file database holding one account with n leads,
// inserted in one transaction to keep the setup short.
func seedLeads(b *testing.B, n int) (*DB, axiom.Account) {
	b.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	acc := newAccount(b, db, axiom.PlanEnterprise)
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-time.Duration(n) * time.Second)
	err = db.write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			l := benchLead(r, acc.ID, i).Normalized()
			t := start.Add(time.Duration(i) * time.Second).UTC().Truncate(time.Millisecond)
			l.ID, l.CreatedAt, l.UpdatedAt = axiom.NewID(axiom.PrefixLead, t), t, t
			if err := insertLead(ctx, db, tx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
		b.Fatal(err)
	}
	return db, acc
}

func BenchmarkCreateLead(b *testing.B) {
	for _, mode := range []string{"file", "memory"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			path := Memory
			if mode == "file" {
				path = filepath.Join(b.TempDir(), "bench.db")
			}
			db, err := Open(ctx, path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			acc := newAccount(b, db, axiom.PlanEnterprise)
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := db.CreateLead(ctx, axiom.NewLead(acc.ID, benchLead(r, acc.ID, i), time.Now())); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkListLeads(b *testing.B) {
	db, acc := seedLeads(b, 10_000)
	ctx := context.Background()
	for _, q := range []axiom.Query{
		{Page: 1, Limit: 20, Sort: "created_at", Desc: true},
		{Page: 1, Limit: 20, Sort: "name"},
		{Page: 250, Limit: 20, Sort: "email", Desc: true},
	} {
		b.Run(fmt.Sprintf("%s/page%d", q.Sort, q.Page), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.ListLeads(ctx, acc.ID, q)
				if err != nil || len(p.Items) != 20 {
					b.Fatalf("ListLeads = %d leads, %v", len(p.Items), err)
				}
			}
		})
	}
}

func BenchmarkSearchLeads(b *testing.B) {
	db, acc := seedLeads(b, 10_000)
	ctx := context.Background()
	for _, search := range []string{"smi", "investor", "stark"} {
		b.Run(search, func(b *testing.B) {
			q := axiom.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true, Search: search}
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.ListLeads(ctx, acc.ID, q)
				if err != nil || len(p.Items) != 20 {
					b.Fatalf("ListLeads = %d leads, %v", len(p.Items), err)
				}
			}
		})
	}
}

// BenchmarkCreateLeadParallel creates leads from many goroutines at once on a
// file database, the way concurrent requests do; creates/s is the figure.
// commit=alone commits each write in its own transaction, as the store did
// before writes were grouped, for comparison in the same run.
func BenchmarkCreateLeadParallel(b *testing.B) {
	for _, bc := range []struct {
		commit   string
		maxBatch int
		writers  int
	}{
		{"alone", 1, 1}, {"grouped", 0, 1},
		{"alone", 1, 32}, {"grouped", 0, 32},
	} {
		b.Run(fmt.Sprintf("commit=%s/writers=%d", bc.commit, bc.writers), func(b *testing.B) {
			writers := bc.writers
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{maxBatch: bc.maxBatch})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			acc := newAccount(b, db, axiom.PlanEnterprise)
			commits0 := db.commits.Load()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for w := range writers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 2))
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if err := db.CreateLead(ctx, axiom.NewLead(acc.ID, benchLead(r, acc.ID, int(i)), time.Now())); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
			b.ReportMetric(float64(b.N)/float64(db.commits.Load()-commits0), "creates/commit")
		})
	}
}

// cpuTime is the CPU time, user and system, the process has used so far:
// per operation, a figure that other load on the machine disturbs less than
// elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReset: the admin endpoint's reset, on a file database, of a
// seed of 28 records and of one with 1,000 more leads, alone and while
// readers list leads.
func BenchmarkReset(b *testing.B) {
	for _, leads := range []int{0, 1000} {
		for _, busy := range []bool{false, true} {
			b.Run(fmt.Sprintf("leads=%d/busy=%v", leads+6, busy), func(b *testing.B) {
				db, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				storetest.BenchmarkReset(b, db, leads, busy)
			})
		}
	}
}

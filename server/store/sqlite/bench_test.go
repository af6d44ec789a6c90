package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

var (
	firstNames = []string{"John", "Jane", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Kofi", "Yuki", "Sam", "Eva"}
	lastNames  = []string{"Smith", "Doe", "García", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Mensah", "Sato", "Brown", "Novak"}
	companies  = []string{"Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli", ""}
	tagWords   = []string{"buyer", "seller", "residential", "commercial", "vip", "cold", "warm", "investor"}
)

// benchLead is the i-th of a deterministic set of varied leads.
func benchLead(r *rand.Rand, accountID string, i int) store.Lead {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	return store.Lead{
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
func seedLeads(b *testing.B, n int) (*DB, store.Account) {
	b.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	acc, err := db.CreateAccount(ctx, store.PlanEnterprise)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-time.Duration(n) * time.Second)
	err = db.write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			l := normalize(benchLead(r, acc.ID, i))
			t := start.Add(time.Duration(i) * time.Second).UTC().Truncate(time.Millisecond)
			l.ID, l.CreatedAt, l.UpdatedAt = store.NewLeadID(t), t, t
			if _, err := insertLead(ctx, tx, l); err != nil {
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
			acc, err := db.CreateAccount(ctx, store.PlanEnterprise)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := db.CreateLead(ctx, benchLead(r, acc.ID, i)); err != nil {
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
	for _, q := range []store.Query{
		{Page: 1, Limit: 20, Sort: "created_at", Desc: true},
		{Page: 1, Limit: 20, Sort: "name"},
		{Page: 250, Limit: 20, Sort: "email", Desc: true},
	} {
		b.Run(fmt.Sprintf("%s/page%d", q.Sort, q.Page), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.ListLeads(ctx, acc.ID, q)
				if err != nil || len(p.Leads) != 20 {
					b.Fatalf("ListLeads = %d leads, %v", len(p.Leads), err)
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
			q := store.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true, Search: search}
			b.ReportAllocs()
			for b.Loop() {
				p, err := db.ListLeads(ctx, acc.ID, q)
				if err != nil || len(p.Leads) != 20 {
					b.Fatalf("ListLeads = %d leads, %v", len(p.Leads), err)
				}
			}
		})
	}
}

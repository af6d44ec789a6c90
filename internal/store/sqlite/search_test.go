package sqlite

import (
	"cmp"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// searchRule is the search rule, written plainly: every word of the query
// begins a word of the lead's name, email, company, phone or tags.
func searchRule(l axiom.Lead, query string) bool {
	var words []string
	for _, f := range append([]string{l.Name, l.Email, l.Company, l.Phone}, l.Tags...) {
		words = append(words, axiom.SearchWords(f)...)
	}
	for _, w := range axiom.SearchWords(query) {
		if !slices.ContainsFunc(words, func(lw string) bool { return strings.HasPrefix(lw, w) }) {
			return false
		}
	}
	return true
}

// sortLeads orders leads as q asks, ties broken by id.
func sortLeads(leads []axiom.Lead, q axiom.Query) {
	key := func(l axiom.Lead) string {
		switch q.Sort {
		case "name":
			return axiom.SortKey(l.Name)
		case "email":
			return axiom.SortKey(l.Email)
		case "updated_at":
			return fmt.Sprintf("%020d", l.UpdatedAt.UnixMilli())
		}
		return fmt.Sprintf("%020d", l.CreatedAt.UnixMilli())
	}
	slices.SortFunc(leads, func(a, b axiom.Lead) int {
		c := cmp.Or(strings.Compare(key(a), key(b)), strings.Compare(a.ID, b.ID))
		if q.Desc {
			return -c
		}
		return c
	})
}

// Both search plans, and the choice between them, give every page exactly
// as the rule and the order say, on leads whose words are common, rare and
// in between, in two accounts, with many ties in the sort keys.
func TestSearchPlansAgree(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "axiom.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := newAccount(t, db, axiom.PlanStarter), newAccount(t, db, axiom.PlanStarter)
	r := rand.New(rand.NewPCG(3, 4))
	first := []string{"Ann", "Anna", "Bob", "Carl", "Dora", "Émile", "Zoë"}
	last := []string{"Smith", "Smithson", "Kovač", "Lee", "Young", "Ng"}
	tags := []string{"common", "customer", "rare", "vip"}
	var leads []axiom.Lead // of account a
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.write(ctx, func(tx *sql.Tx) error {
		for i := range 3000 {
			acc := a.ID
			if i%7 == 0 {
				acc = b.ID
			}
			var ts []string
			if r.IntN(4) == 0 {
				ts = append(ts, "customer")
			}
			if r.IntN(2) == 0 {
				ts = append(ts, "common")
			}
			if r.IntN(300) == 0 {
				ts = append(ts, "rare")
			}
			if r.IntN(40) == 0 {
				ts = append(ts, tags[3])
			}
			// Few distinct times and names: many ties to break by id.
			created := base.Add(time.Duration(r.IntN(200)) * time.Second)
			l := axiom.Lead{
				AccountID: acc,
				Name:      first[r.IntN(len(first))] + " " + last[r.IntN(len(last))],
				Email:     fmt.Sprintf("user%d@example.com", i),
				Tags:      ts,
				ID:        axiom.NewID(axiom.PrefixLead, created),
				CreatedAt: created,
				UpdatedAt: created.Add(time.Duration(r.IntN(100)) * time.Second),
			}.Normalized()
			if err := insertLead(ctx, db, tx, l); err != nil {
				return err
			}
			if acc == a.ID {
				leads = append(leads, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	plans := map[string]Options{
		"auto": {}, "scan": {plan: planScan}, "index": {plan: planIndex}, "walk": {plan: planWalk},
		// Proofs cut short: the walk goes on to the last match, or proves
		// only some pages.
		"walk-proof1": {plan: planWalk, proof: 1}, "walk-proof100": {plan: planWalk, proof: 100},
		"filter": {plan: planFilter},
	}
	dbs := map[string]*DB{}
	for name, opts := range plans {
		dbs[name], err = Open(ctx, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer dbs[name].Close()
	}
	searches := []string{"common", "cust", "c", "vip", "rare", "zoë", "ann smith", "common customer", "nothing"}
	orders := []axiom.Query{
		{Sort: "created_at", Desc: true}, {Sort: "created_at"}, {Sort: "updated_at", Desc: true},
		{Sort: "name"}, {Sort: "email", Desc: true},
	}
	for _, search := range searches {
		for _, order := range orders {
			q := axiom.Query{Limit: 20, Sort: order.Sort, Desc: order.Desc, Search: search}
			var want []axiom.Lead
			for _, l := range leads {
				if searchRule(l, search) {
					want = append(want, l)
				}
			}
			sortLeads(want, q)
			// The first pages, one in the middle and the pages around
			// the end.
			last := max(1, (len(want)+q.Limit-1)/q.Limit)
			for _, page := range slices.Compact([]int{1, 2, last / 2, last, last + 1}) {
				if page < 1 {
					continue
				}
				q.Page = page
				from, to := min(q.Offset(), len(want)), min(q.Offset()+q.Limit, len(want))
				wantIDs := ids(want[from:to])
				for name, db := range dbs {
					if db.plan == planWalk && q.Sort != "created_at" {
						continue // the index plan, tested as such
					}
					p, err := db.ListLeads(ctx, a.ID, q)
					if err != nil {
						t.Fatalf("%s: ListLeads(%+v): %v", name, q, err)
					}
					if got := ids(p.Items); !slices.Equal(got, wantIDs) || p.HasMore != (to < len(want)) {
						t.Errorf("%s plan: search %q by %s desc=%v page %d = %d leads, more %v; want %d, more %v",
							name, search, q.Sort, q.Desc, page, len(got), p.HasMore, len(wantIDs), to < len(want))
					}
				}
			}
		}
	}
}

func ids(leads []axiom.Lead) []string {
	out := []string{}
	for _, l := range leads {
		out = append(out, l.ID)
	}
	return out
}

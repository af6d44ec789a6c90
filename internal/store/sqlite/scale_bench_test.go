package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/sqlstore"
)

// The scale benchmarks run on one account of a million leads, beside a
// smaller account (so that the account filter is real), generated once and
// kept in os.TempDir() under a name holding scaleVersion: change the version
// whenever the generator changes. A new migration needs no new version: Open
// applies it to the kept file. Generating takes minutes; delete the file to
// start again. They run only when AXIOM_SCALE_BENCH is set, so that a run
// of every benchmark stays short.
const (
	scaleVersion    = "v4"
	scaleLeads      = 1_000_000
	scaleOthers     = 20_000
	scaleProperties = 100_000 // listings of the big account
)

// Word lists of the generated leads: the first entries of each are drawn
// most often (Zipf), as real names, companies and domains are.
var (
	scaleFirst = strings.Fields(`James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William
		Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew
		Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle
		Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Laura
		Edward Sharon Jeffrey Cynthia Ryan Kathleen Jacob Amy Gary Angela Nicholas Shirley Eric Anna Jonathan
		Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory
		Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry
		Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria
		Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn Noah Judith Jeremy Megan Christian
		Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann
		Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy
		Alice Joe Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie Doris Alan Marilyn Juan
		Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana Vincent Natalie Ralph Brittany Eugene
		Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori Louis Ahmed Mei Yuki Olga Pierre Kofi Ünal`)
	scaleLast = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
		Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
		Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
		Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans
		Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez
		Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks
		Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long
		Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes
		Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin
		Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford
		Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen
		Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder
		Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren
		Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant
		Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart Bradley Knight Elliott Cunningham
		Duncan Armstrong Hudson Carroll Lane Riley Andrews Ivanova Mensah Sato Novak Çelik Wang Khan Müller`)
	// Syllables of the long tail of rarer surnames.
	scaleSyllables = strings.Fields(`ka lo mi ra ne to vi sa du be ri on el an ko ta ma lu ze pe go ha fi
		ny or bu si de wa`)
	scaleCompanyWords = strings.Fields(`Acme Global Blue Summit Pioneer Apex Silver Green Northern Pacific
		Atlantic Bright Red Golden United First Prime Eagle River Oak Pine Maple Cedar Stone Iron Harbor
		Coastal Mountain Valley Sunrise Horizon Liberty Heritage Quantum Vertex Nova Stellar Fusion Core
		Digital Urban Metro Royal Crown Keystone Frontier Legacy Vista Evergreen Cascade Granite Crystal
		Falcon Phoenix Titan Atlas Orion Zenith Beacon Anchor Compass Bridge Meridian Sterling Lighthouse`)
	scaleCompanyNouns = strings.Fields(`Realty Properties Homes Capital Partners Investments Holdings
		Ventures Consulting Solutions Systems Logistics Foods Health Energy Media Labs Studios Builders
		Construction Insurance Finance Advisors Group Associates Enterprises Industries Technologies Motors`)
	scaleCompanySuffixes = []string{"Inc", "LLC", "Ltd", "Corp", "Co", "", "", ""}
	scaleFreeDomains     = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me"}
	// scaleTags are the tags with the share of leads that carry each.
	scaleTags = []struct {
		tag   string
		share float64
	}{
		{"customer", 0.25}, {"newsletter", 0.15}, {"prospect", 0.12}, {"residential", 0.08},
		{"commercial", 0.05}, {"partner", 0.04}, {"vip", 0.02}, {"investor", 0.01}, {"referral", 0.01},
		{"churned", 0.005}, {"webinar-2024", 0.003}, {"beta-tester", 0.0005}, {"trade-show-2019", 0.0001},
		{"board-member", 0.00002},
	}
)

// scaleGen makes the leads of the scale benchmarks, deterministically.
type scaleGen struct {
	r                          *rand.Rand
	first, last, company, free *rand.Zipf
	companies                  []string
}

func newScaleGen() *scaleGen {
	r := rand.New(rand.NewPCG(7, 11))
	g := &scaleGen{r: r}
	g.first = rand.NewZipf(r, 1.07, 8, uint64(len(scaleFirst)-1))
	g.last = rand.NewZipf(r, 1.07, 8, uint64(len(scaleLast)-1))
	g.free = rand.NewZipf(r, 1.5, 1, uint64(len(scaleFreeDomains)-1))
	// 20,000 companies, a few large and a long tail of small ones.
	seen := map[string]bool{}
	for len(g.companies) < 20_000 {
		c := scaleCompanyWords[r.IntN(len(scaleCompanyWords))] + " " + scaleCompanyNouns[r.IntN(len(scaleCompanyNouns))]
		if r.IntN(3) == 0 {
			c = scaleCompanyWords[r.IntN(len(scaleCompanyWords))] + " " + c
		}
		if s := scaleCompanySuffixes[r.IntN(len(scaleCompanySuffixes))]; s != "" {
			c += " " + s
		}
		if !seen[c] {
			seen[c] = true
			g.companies = append(g.companies, c)
		}
	}
	g.company = rand.NewZipf(r, 1.1, 4, uint64(len(g.companies)-1))
	return g
}

func (g *scaleGen) surname() string {
	if g.r.IntN(10) < 7 {
		return scaleLast[g.last.Uint64()]
	}
	// The long tail: 30 syllables give 27,000 names of three.
	var b strings.Builder
	for range 2 + g.r.IntN(2) {
		b.WriteString(scaleSyllables[g.r.IntN(len(scaleSyllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// lead returns the i-th lead, created at t.
func (g *scaleGen) lead(accountID string, i int, t time.Time) axiom.Lead {
	r := g.r
	first, last := scaleFirst[g.first.Uint64()], g.surname()
	company := ""
	if r.IntN(4) != 0 {
		company = g.companies[g.company.Uint64()]
	}
	var domain string
	if company == "" || r.IntN(10) < 4 {
		domain = scaleFreeDomains[g.free.Uint64()]
	} else {
		domain = strings.ToLower(strings.Join(strings.Fields(company)[:2], "")) + ".com"
	}
	local := strings.ToLower(first + "." + last)
	if r.IntN(3) == 0 {
		local = strings.ToLower(first[:1] + last)
	}
	phone := ""
	if r.IntN(10) < 7 {
		phone = fmt.Sprintf("+1%03d%07d", 200+r.IntN(800), r.IntN(10_000_000))
	}
	tags := []string{}
	for _, tg := range scaleTags {
		if r.Float64() < tg.share {
			tags = append(tags, tg.tag)
		}
	}
	updated := t
	if r.IntN(10) < 3 {
		updated = t.Add(time.Duration(r.Int64N(int64(200 * 24 * time.Hour))))
	}
	return axiom.Lead{
		ID:        axiom.NewID(axiom.PrefixLead, t),
		AccountID: accountID,
		Name:      first + " " + last,
		Email:     fmt.Sprintf("%s%d@%s", local, i, domain),
		Phone:     phone,
		Company:   company,
		Type:      []string{"lead", "lead", "lead", "prospect", "client", "past_client", "partner", "vendor", "other"}[r.IntN(9)],
		Status:    []string{"active", "active", "active", "active", "inactive", "unsubscribed"}[r.IntN(6)],
		Source:    []string{"Website", "Website", "Referral", "Import", "API", "Event"}[r.IntN(6)],
		Tags:      tags,
		Notes:     []string{},
		CustomFields: map[string]string{
			"budget": fmt.Sprint(r.IntN(1000)) + "k",
		},
		CreatedAt: t,
		UpdatedAt: updated,
	}
}

// scaleDB opens the kept million-lead database, generating it first if need
// be, and returns it with the big account's id.
func scaleDB(b *testing.B) (*DB, string) {
	b.Helper()
	if os.Getenv("AXIOM_SCALE_BENCH") == "" {
		b.Skip("set AXIOM_SCALE_BENCH=1 to run the million-lead benchmarks (their data, about 1 GB, is generated once in os.TempDir())")
	}
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("axiom-scale-%s-%d.db", scaleVersion, scaleLeads))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		b.Logf("generating %s (once; kept for later runs)", path)
		start := time.Now()
		if err := generateScale(ctx, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated in %v", time.Since(start).Round(time.Second))
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var accountID string
	if err := db.r.QueryRowContext(ctx, "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1").Scan(&accountID); err != nil {
		b.Fatal(err)
	}
	return db, accountID
}

// generateScale writes the dataset to a file beside path and renames it
// into place once complete, so that an interrupted run leaves no half file.
func generateScale(ctx context.Context, path string) error {
	tmp := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
	}()
	db, err := Open(ctx, tmp, Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	// A large cache for the writer keeps the random inserts into the
	// indexes from rereading their pages.
	if _, err := db.w.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
		return err
	}
	big := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
	if err := db.CreateAccount(ctx, big); err != nil {
		return err
	}
	time.Sleep(2 * time.Millisecond) // the big account sorts first
	other := axiom.NewAccount(axiom.PlanStarter, time.Now())
	if err := db.CreateAccount(ctx, other); err != nil {
		return err
	}
	g := newScaleGen()
	t := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	total := scaleLeads + scaleOthers
	every := total / scaleOthers
	const perTx = 20_000
	for done := 0; done < total; {
		err := db.write(ctx, func(tx *sql.Tx) error {
			for n := 0; n < perTx && done < total; n++ {
				t = t.Add(time.Duration(g.r.IntN(190_000)) * time.Millisecond)
				acc := big.ID
				if done%every == every-1 {
					acc = other.ID
				}
				if err := insertLead(ctx, db, tx, g.lead(acc, done, t)); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	pg := newPropertyGen()
	for done := 0; done < scaleProperties+scaleProperties/20; {
		err := db.write(ctx, func(tx *sql.Tx) error {
			for n := 0; n < perTx && done < scaleProperties+scaleProperties/20; n++ {
				acc := big.ID
				if done >= scaleProperties {
					acc = other.ID
				}
				if err := sqlstore.InsertProperty(ctx, db.Store, tx, pg.property(acc, done)); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// scaleQueries are the searches timed on the million leads, by how many
// leads they match.
var scaleQueries = []struct{ class, search string }{
	{"common", "customer"}, // a tag on 25%
	{"common", "gmail"},    // the most common email domain
	{"common", "james"},    // the most common first name
	{"medium", "vip"},      // a tag on 2%
	{"medium", "investor"}, // a tag on 1%
	{"medium", "gonzalez"}, // a surname
	{"medium", "falcon"},   // a word of many companies
	{"rare", "trade"},      // a tag on 0.01%
	{"rare", "board"},      // a tag on 0.002%
	{"rare", "kalomi"},     // a rare surname
	{"rare", "zzyzx"},      // nothing
	{"prefix2", "ma"},      // Mary, Mark, Martinez, maple...
	{"prefix2", "jo"},      // John, Johnson, Jones...
	{"prefix3", "cus"},     // customer...
	{"prefix3", "chr"},     // Christopher, Christine...
	{"two-words", "james customer"},
}

// BenchmarkScaleSearch times single searches on one account of a million
// leads and reports their median and 99th percentile: the default order
// (newest first), another order, and deeper pages.
//
//	AXIOM_SCALE_BENCH=1 go test -run '^$' -bench ScaleSearch -benchtime 100x ./internal/store/sqlite/
func BenchmarkScaleSearch(b *testing.B) {
	db, accountID := scaleDB(b)
	ctx := context.Background()
	type variant struct {
		name string
		q    axiom.Query
	}
	variants := []variant{
		{"newest/page1", axiom.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true}},
		{"newest/page10", axiom.Query{Page: 10, Limit: 20, Sort: "created_at", Desc: true}},
		{"name/page1", axiom.Query{Page: 1, Limit: 20, Sort: "name"}},
	}
	for _, v := range variants {
		for _, sq := range scaleQueries {
			b.Run(v.name+"/"+sq.class+"="+strings.ReplaceAll(sq.search, " ", "+"), func(b *testing.B) {
				q := v.q
				q.Search = sq.search
				times := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					if _, err := db.ListLeads(ctx, accountID, q); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(start))
				}
				reportPercentiles(b, times)
			})
		}
	}
}

// BenchmarkScaleSearchMixed times the one-word queries of scaleQueries in
// turn, newest first, page 1: the median and 99th percentile of them all.
func BenchmarkScaleSearchMixed(b *testing.B) {
	db, accountID := scaleDB(b)
	ctx := context.Background()
	var searches []string
	for _, sq := range scaleQueries {
		if !strings.Contains(sq.search, " ") {
			searches = append(searches, sq.search)
		}
	}
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := axiom.Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true, Search: searches[i%len(searches)]}
		i++
		start := time.Now()
		if _, err := db.ListLeads(ctx, accountID, q); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

// BenchmarkScaleSearchBefore times the query the store ran before it chose
// among plans (every match of the full-text index, then sorted), for
// comparison on the same data.
func BenchmarkScaleSearchBefore(b *testing.B) {
	db, accountID := scaleDB(b)
	ctx := context.Background()
	for _, sq := range scaleQueries {
		b.Run(sq.class+"="+strings.ReplaceAll(sq.search, " ", "+"), func(b *testing.B) {
			match := matchExpr(axiom.SearchWords(sq.search))
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if _, err := sqlstore.ScanLeads(db.r.QueryContext(ctx, "SELECT "+db.LeadRow()+" FROM leads WHERE account_id = ?"+
					" AND seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?)"+
					" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", accountID, match, 21, 0)); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}

// BenchmarkScaleCreateLead creates leads from 32 goroutines in a copy of
// the million-lead database: the indexes are deep and mostly out of the
// page cache, as in a large database in service.
func BenchmarkScaleCreateLead(b *testing.B) {
	src, _ := scaleDB(b)
	path := filepath.Join(b.TempDir(), "copy.db")
	if _, err := src.w.ExecContext(context.Background(), "VACUUM INTO ?", path); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var accountID string
	if err := db.r.QueryRowContext(ctx, "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1").Scan(&accountID); err != nil {
		b.Fatal(err)
	}
	const writers = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	gens := make([]*scaleGen, writers)
	for w := range gens {
		gens[w] = newScaleGen()
		gens[w].r = rand.New(rand.NewPCG(uint64(w), 99))
	}
	commits0 := db.commits.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for _, g := range gens {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				l := g.lead(accountID, int(i), time.Now())
				l.Email = fmt.Sprintf("new%d.%s", i, l.Email)
				if err := db.CreateLead(ctx, l); err != nil {
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
}

// BenchmarkScaleList times pages of the million leads without a search.
func BenchmarkScaleList(b *testing.B) {
	db, accountID := scaleDB(b)
	ctx := context.Background()
	for _, q := range []axiom.Query{
		{Page: 1, Limit: 20, Sort: "created_at", Desc: true},
		{Page: 1, Limit: 100, Sort: "name"},
		{Page: 500, Limit: 20, Sort: "email", Desc: true},
	} {
		b.Run(fmt.Sprintf("%s/limit%d/page%d", q.Sort, q.Limit, q.Page), func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				p, err := db.ListLeads(ctx, accountID, q)
				if err != nil || len(p.Items) != q.Limit {
					b.Fatalf("ListLeads = %d leads, %v", len(p.Items), err)
				}
				times = append(times, time.Since(start))
			}
			reportPercentiles(b, times)
		})
	}
}

// reportPercentiles reports the median and 99th percentile of times, in
// milliseconds.
func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	at := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))]) / 1e6
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

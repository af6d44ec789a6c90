package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/store/postgres"
	"github.com/axiomkit/axiom/internal/store/sqlite"
)

// seeded is what the load runs need of the seeded database.
type seeded struct {
	ReadKey  string // of the account holding the leads
	WriteKey string // of a second account, which the creates fill
	// The accounts' ids, for the floor, which has no keys.
	ReadAccount, WriteAccount string
}

var (
	firstNames = []string{"John", "Jane", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Kofi", "Yuki", "Sam", "Eva", "Lucas", "Amara", "Noah", "Sofia"}
	lastNames  = []string{"Smith", "Doe", "García", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Mensah", "Sato", "Brown", "Novak", "Rossi", "Okafor", "Müller", "Larsen"}
	companies  = []string{"Acme Real Estate", "Globex", "Initech", "Umbrella Holdings", "Stark Industries", "Wayne Enterprises", "Hooli", ""}
	sources    = []string{"Website", "Referral", "Open house", "Zillow", "Cold call"}
	leadTypes  = []string{"lead", "prospect", "client", "past_client", "partner", "vendor", "other"}
	tagWords   = []string{"buyer", "seller", "residential", "commercial", "vip", "cold", "warm", "investor", "zone-3", "first-time"}
	notes      = []string{"Called on Monday; interested in three-bedroom houses near the river.", "Met at the spring fair.", "Wants a callback after the holidays."}
	locations  = []string{"Downtown", "Riverside", "Old Town", "Harbour", "Hillcrest"}
)

// searchWord is a last name about 1 lead in 16 has: a full page of matches.
const searchWord = "silva"

// lead is the i-th of a deterministic set of varied, realistic leads.
func lead(r *rand.Rand, accountID string, i int) axiom.Lead {
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	return axiom.NewLead(accountID, axiom.Lead{
		Name:    first + " " + last,
		Email:   fmt.Sprintf("%s.%s.%d@example-realty.com", ascii(first), ascii(last), i),
		Phone:   fmt.Sprintf("+1%010d", r.Int64N(1e10)),
		Company: companies[r.IntN(len(companies))],
		Type:    leadTypes[r.IntN(len(leadTypes))],
		Status:  "active",
		Source:  sources[r.IntN(len(sources))],
		Tags:    tags(r),
		Notes:   []string{notes[r.IntN(len(notes))]},
		CustomFields: map[string]string{
			"preferred_location": locations[r.IntN(len(locations))],
			"budget":             fmt.Sprintf("$%dk", 100+r.IntN(900)),
		},
	}, time.Now())
}

// tags are two different tags: the spec wants them unique.
func tags(r *rand.Rand) []string {
	i := r.IntN(len(tagWords))
	j := (i + 1 + r.IntN(len(tagWords)-1)) % len(tagWords)
	return []string{tagWords[i], tagWords[j]}
}

// ascii keeps the ASCII letters of a name, for its email address.
func ascii(s string) string {
	b := make([]byte, 0, len(s))
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			b = append(b, c|0x20)
		}
	}
	return string(b)
}

// seedStore is what seeding needs of a store: both backends' have it.
type seedStore interface {
	CreateAccount(context.Context, axiom.Account) error
	CreateKey(context.Context, axiom.Key) error
	CreateLead(context.Context, axiom.Lead) error
	Close() error
}

// seed creates the SQLite database at path: an Enterprise account with n
// leads, and a second, empty one for the creates.
func seed(ctx context.Context, path string, n int) (seeded, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return seeded{}, err
	}
	defer db.Close()
	return seedInto(ctx, db, n)
}

// seedPostgres seeds the PostgreSQL schema url names as seed does a SQLite
// file: the same accounts and the same leads.
func seedPostgres(ctx context.Context, url string, n int) (seeded, error) {
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return seeded{}, err
	}
	defer db.Close()
	return seedInto(ctx, db, n)
}

// seedInto fills db, whichever its backend, with the data set of the run.
func seedInto(ctx context.Context, db seedStore, n int) (seeded, error) {
	var s seeded
	for _, k := range []*string{&s.ReadKey, &s.WriteKey} {
		acc := axiom.NewAccount(axiom.PlanEnterprise, time.Now())
		if err := db.CreateAccount(ctx, acc); err != nil {
			return seeded{}, err
		}
		key, secret := axiom.NewKey(acc.ID, "bench", false, time.Now())
		if err := db.CreateKey(ctx, key); err != nil {
			return seeded{}, err
		}
		*k = secret
		if k != &s.ReadKey {
			s.WriteAccount = acc.ID
			continue
		}
		s.ReadAccount = acc.ID
		r := rand.New(rand.NewPCG(1, 2))
		for i := range n {
			if err := db.CreateLead(ctx, lead(r, acc.ID, i)); err != nil {
				return seeded{}, fmt.Errorf("seed lead %d: %w", i, err)
			}
		}
	}
	return s, db.Close()
}

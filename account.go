package axiom

import (
	"crypto/sha256"
	"fmt"
	"time"
)

// Plan is an account's plan, which sets its rate limit.
type Plan string

// The plans of the page's "Rate limits" table.
const (
	PlanStarter      Plan = "starter"
	PlanProfessional Plan = "professional"
	PlanEnterprise   Plan = "enterprise"
)

// RateLimit is a plan's bucket: it refills at Rate requests per minute and
// admits at most Burst at once.
type RateLimit struct {
	Rate  int // requests per minute, the X-RateLimit-Limit value
	Burst int // requests a full bucket admits at once
}

// planLimits is the page's table, the one definition of every plan's limit.
var planLimits = map[Plan]RateLimit{
	PlanStarter:      {Rate: 60, Burst: 100},
	PlanProfessional: {Rate: 120, Burst: 200},
	PlanEnterprise:   {Rate: 300, Burst: 500},
}

// SendQuotas are the campaign messages each plan may queue in any 24
// hours; a plan missing from the map has no quota.
type SendQuotas map[Plan]int

// DefaultSendQuotas are the quotas of the reference server: the page states
// none, so these are inferred, of the order of the plans' rates.
func DefaultSendQuotas() SendQuotas {
	return SendQuotas{PlanStarter: 10_000, PlanProfessional: 100_000, PlanEnterprise: 1_000_000}
}

// SendQuotaWindow is the span a quota counts messages over.
const SendQuotaWindow = 24 * time.Hour

// CheckSend refuses a send of up to need messages by an account of plan
// p that queued used messages in the window, the oldest of them at
// oldest, when the quota would be passed.
func (q SendQuotas) CheckSend(p Plan, used, need int, oldest, now time.Time) error {
	quota, ok := q[p]
	if !ok || used+need <= quota {
		return nil
	}
	e := Errorf(CodeSendQuotaExceeded,
		"Sending this campaign to up to %d recipients would pass the %s plan's quota of %d messages in 24 hours: %d are counted now; nothing was queued",
		need, p, quota, used)
	e.RetryAfter = max(time.Second, oldest.Add(SendQuotaWindow).Sub(now))
	return e
}

// Plans lists the plans, cheapest first.
func Plans() []Plan { return []Plan{PlanStarter, PlanProfessional, PlanEnterprise} }

// Valid reports whether p is one of the plans.
func (p Plan) Valid() bool { _, ok := planLimits[p]; return ok }

// RateLimit is the limit of plan p. An unknown plan gets Starter's, the
// strictest, so that a bad record never widens an account's quota.
func (p Plan) RateLimit() RateLimit {
	if l, ok := planLimits[p]; ok {
		return l
	}
	return planLimits[PlanStarter]
}

// ParsePlan reads a plan's name.
func ParsePlan(s string) (Plan, error) {
	if p := Plan(s); p.Valid() {
		return p, nil
	}
	return "", fmt.Errorf("unknown plan %q: want starter, professional or enterprise", s)
}

// Account owns leads, templates, campaigns and keys; accounts never see
// each other's data.
type Account struct {
	ID        string
	Plan      Plan
	CreatedAt time.Time
}

// NewAccount returns a new account on plan p, ready to store.
func NewAccount(p Plan, now time.Time) Account {
	now = StoreTime(now)
	return Account{ID: NewID(PrefixAccount, now), Plan: p, CreatedAt: now}
}

// Key is an API key as stored: only the SHA-256 hash of its secret is kept.
type Key struct {
	ID        string
	AccountID string
	Name      string
	Hash      []byte // SHA-256 of the secret
	Hint      string // the first characters of the secret, safe to show
	ReadOnly  bool
	CreatedAt time.Time
	RevokedAt *time.Time // nil while the key is valid
}

// KeyPrefix starts every API key, so that secret scanners can spot a leaked one.
const KeyPrefix = "axm_"

// NewSecret returns a new API key secret, "axm_" and 40 random base-62
// characters (about 238 bits), with the hash and hint a Key stores.
func NewSecret() (secret string, hash []byte, hint string) {
	secret = KeyPrefix + randomBase62(40)
	return secret, HashSecret(secret), secret[:len(KeyPrefix)+4]
}

// HashSecret is the hash under which a key's secret is stored and looked up.
// Keys carry ample entropy, so a fast unsalted hash is safe here.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewKey returns a new key of an account, ready to store, and its secret:
// shown to its owner once, never stored.
func NewKey(accountID, name string, readOnly bool, now time.Time) (Key, string) {
	secret, hash, hint := NewSecret()
	now = StoreTime(now)
	return Key{
		ID: NewID(PrefixKey, now), AccountID: accountID, Name: name,
		Hash: hash, Hint: hint, ReadOnly: readOnly, CreatedAt: now,
	}, secret
}

// Principal is who calls the API: a valid key and its account.
type Principal struct {
	Key     Key
	Account Account
}

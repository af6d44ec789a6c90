package axiom

import "time"

// Query selects one page of a list.
type Query struct {
	Page   int    // from 1
	Limit  int    // 1..100
	Sort   string // a sort field of the listed resource: created_at, updated_at, name, email
	Desc   bool
	Search string // leads only: words that must each begin a word of the lead
}

// DefaultQuery is the page the API lists when a request names none: the
// first 20, newest first.
func DefaultQuery() Query { return Query{Page: 1, Limit: 20, Sort: "created_at", Desc: true} }

// Offset is the number of items before the page.
func (q Query) Offset() int { return (q.Page - 1) * q.Limit }

// Page is one page of a list and whether another follows.
type Page[T any] struct {
	Items   []T
	HasMore bool
}

// IdempotencyTTL is how long the first response to an Idempotency-Key is
// replayed, as the spec promises.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the claim on an Idempotency-Key of an account and,
// once the request it guards has been answered, that answer, replayed to
// every retry. Status is 0 while the first request runs.
type IdempotencyRecord struct {
	AccountID   string
	Key         string
	RequestHash []byte // SHA-256 of method, path and body
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time // when the key was claimed
	// Token identifies one claim, so that only its holder completes it.
	Token string
}

// Done reports whether the guarded request has been answered.
func (r IdempotencyRecord) Done() bool { return r.Status != 0 }

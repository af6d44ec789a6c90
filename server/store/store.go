// Package store holds the reference server's domain types and the storage
// interface every backend (sqlite, postgres) implements. It knows nothing of
// HTTP or of the generated API types: the server maps between the two.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every Store returns, wrapped or not; test them with errors.Is.
var (
	// ErrNotFound: no such record in this account (another account's record
	// is reported the same way).
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique key of the account is taken (a lead's email,
	// compared case-insensitively; a template's slug; an idempotency key).
	ErrDuplicate = errors.New("duplicate entry")
)

// Plan is an account's rate-limit plan.
type Plan string

const (
	PlanStarter      Plan = "starter"
	PlanProfessional Plan = "professional"
	PlanEnterprise   Plan = "enterprise"
)

// Valid reports whether p is one of the known plans.
func (p Plan) Valid() bool {
	switch p {
	case PlanStarter, PlanProfessional, PlanEnterprise:
		return true
	}
	return false
}

// Account owns leads, templates and keys; accounts never see each other's data.
type Account struct {
	ID        string
	Plan      Plan
	CreatedAt time.Time
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

// Lead is a contact of an account. Every field is always set ("" or empty
// slices and maps when unknown).
type Lead struct {
	ID           string
	AccountID    string
	Name         string
	Email        string
	Phone        string
	Company      string
	Type         string
	Status       string
	Source       string
	Tags         []string
	Notes        []string
	CustomFields map[string]string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LeadPatch lists the fields of a lead to change; nil fields are kept.
type LeadPatch struct {
	Name, Email, Phone, Company, Type, Status, Source *string
	Tags, Notes                                       *[]string
	CustomFields                                      *map[string]string
}

// Template is an email template, named by its slug within the account.
type Template struct {
	AccountID string
	Slug      string
	Name      string
	Subject   string
	Content   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TemplatePatch lists the fields of a template to change; nil fields are kept.
type TemplatePatch struct {
	Name, Subject, Content *string
}

// Query selects one page of a list.
type Query struct {
	Page   int    // from 1
	Limit  int    // 1..100
	Sort   string // a sort field of the listed resource: created_at, updated_at, name, email
	Desc   bool
	Search string // leads only: words that must each begin a word of the lead
}

// Offset is the number of items before the page.
func (q Query) Offset() int { return (q.Page - 1) * q.Limit }

// LeadPage is one page of leads and whether another follows.
type LeadPage struct {
	Leads   []Lead
	HasMore bool
}

// TemplatePage is one page of templates and whether another follows.
type TemplatePage struct {
	Templates []Template
	HasMore   bool
}

// IdempotentResponse is the first response to a POST carrying an
// Idempotency-Key, kept to be replayed to retries.
type IdempotentResponse struct {
	AccountID   string
	Key         string
	RequestHash []byte // SHA-256 of method, path and body
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

// AccountStore keeps accounts and their API keys.
type AccountStore interface {
	CreateAccount(ctx context.Context, plan Plan) (Account, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	CountAccounts(ctx context.Context) (int, error)
	// CreateKey stores k; k.ID, k.AccountID, k.Hash and k.Hint must be set.
	CreateKey(ctx context.Context, k Key) (Key, error)
	// KeyByHash finds a key (revoked or not) by the hash of its secret.
	KeyByHash(ctx context.Context, hash []byte) (Key, Account, error)
	// ListKeys lists the keys of one account, or of all when accountID is "".
	ListKeys(ctx context.Context, accountID string) ([]Key, error)
	RevokeKey(ctx context.Context, id string) error
}

// LeadStore keeps leads. Every method is scoped to one account.
type LeadStore interface {
	// CreateLead stores l, assigning its ID, CreatedAt and UpdatedAt.
	// A lead whose email the account already has (case-insensitively) is
	// refused with ErrDuplicate.
	CreateLead(ctx context.Context, l Lead) (Lead, error)
	GetLead(ctx context.Context, accountID, id string) (Lead, error)
	UpdateLead(ctx context.Context, accountID, id string, p LeadPatch) (Lead, error)
	DeleteLead(ctx context.Context, accountID, id string) error
	ListLeads(ctx context.Context, accountID string, q Query) (LeadPage, error)
}

// TemplateStore keeps templates. Every method is scoped to one account.
type TemplateStore interface {
	// CreateTemplate stores t with the slug it carries, assigning
	// CreatedAt and UpdatedAt; a slug the account has used is ErrDuplicate.
	CreateTemplate(ctx context.Context, t Template) (Template, error)
	GetTemplate(ctx context.Context, accountID, slug string) (Template, error)
	UpdateTemplate(ctx context.Context, accountID, slug string, p TemplatePatch) (Template, error)
	DeleteTemplate(ctx context.Context, accountID, slug string) error
	ListTemplates(ctx context.Context, accountID string, q Query) (TemplatePage, error)
}

// IdempotencyStore keeps first responses to idempotent POSTs.
type IdempotencyStore interface {
	// SaveIdempotent stores r; a key the account already has is ErrDuplicate.
	SaveIdempotent(ctx context.Context, r IdempotentResponse) error
	// GetIdempotent returns the response stored for the key, ErrNotFound if
	// none is, or if it is older than maxAge.
	GetIdempotent(ctx context.Context, accountID, key string, maxAge time.Duration) (IdempotentResponse, error)
}

// Store is everything the server keeps.
type Store interface {
	AccountStore
	LeadStore
	TemplateStore
	IdempotencyStore
	CampaignStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

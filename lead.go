package axiom

import (
	"crypto/rand"
	"strings"
	"time"
	"unicode"
)

// Lead is a contact of an account. Every field is always set ("" or empty
// slices and maps when unknown).
type Lead struct {
	ID           string
	AccountID    string
	Name         string
	Email        string
	Phone        string
	Company      string
	Type         string // what the person is: LeadTypes
	Status       string // where the record stands: LeadStatuses
	Source       string
	Tags         []string
	Notes        []string
	CustomFields map[string]string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// The defaults of a new lead, and the status that keeps a lead from mail.
const (
	LeadTypeDefault        = "lead"
	LeadStatusDefault      = "active"
	LeadStatusUnsubscribed = "unsubscribed"
)

// NewLead returns l as it is created now in account accountID: a new id,
// its times, the default type and status where l has none, and every field set.
func NewLead(accountID string, l Lead, now time.Time) Lead {
	now = StoreTime(now)
	l.ID, l.AccountID, l.CreatedAt, l.UpdatedAt = NewID(PrefixLead, now), accountID, now, now
	if l.Type == "" {
		l.Type = LeadTypeDefault
	}
	if l.Status == "" {
		l.Status = LeadStatusDefault
	}
	return l.Normalized()
}

// Normalized returns l with nil tags, notes and custom fields made empty, so
// that every backend returns a lead whose fields are all set.
func (l Lead) Normalized() Lead {
	if l.Tags == nil {
		l.Tags = []string{}
	}
	if l.Notes == nil {
		l.Notes = []string{}
	}
	if l.CustomFields == nil {
		l.CustomFields = map[string]string{}
	}
	return l
}

// LeadPatch lists the fields of a lead to change; nil fields are kept.
type LeadPatch struct {
	Name, Email, Phone, Company, Type, Status, Source *string
	Tags, Notes                                       *[]string
	CustomFields                                      *map[string]string
}

// Apply returns l with the fields p sets, normalized and stamped updated at now.
func (p LeadPatch) Apply(l Lead, now time.Time) Lead {
	for _, f := range []struct {
		dst *string
		src *string
	}{
		{&l.Name, p.Name}, {&l.Email, p.Email}, {&l.Phone, p.Phone}, {&l.Company, p.Company},
		{&l.Type, p.Type}, {&l.Status, p.Status}, {&l.Source, p.Source},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.Tags != nil {
		l.Tags = *p.Tags
	}
	if p.Notes != nil {
		l.Notes = *p.Notes
	}
	if p.CustomFields != nil {
		l.CustomFields = *p.CustomFields
	}
	l.UpdatedAt = StoreTime(now)
	return l.Normalized()
}

// LeadNotFound is the error of a lead id the account does not have.
func LeadNotFound(id string) *Error { return Errorf(CodeNotFound, "No lead with id '%s'", id) }

// DuplicateEmail is the error of a lead whose email the account already has.
func DuplicateEmail(email string) *Error {
	return Errorf(CodeDuplicateEntry, "A lead with email '%s' already exists", email)
}

// EmailKey is the form of an email that uniqueness compares: an account
// has at most one lead per EmailKey, so emails differing only in case clash.
func EmailKey(email string) string { return strings.ToLower(email) }

// SortKey is the form of a name or email that sorting compares: ASCII
// letters folded to lower case, every other byte kept, so that every backend
// orders the same data the same way.
func SortKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// SearchWords splits text or a search query into its words: runs of letters
// and digits, lower-cased. The rest only separates words. A lead matches a
// search when each word of the query begins a word of the lead's SearchText.
func SearchWords(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// SearchText is the searchable words of l: those of its name, email,
// company, phone and tags, space-separated in that order.
func (l Lead) SearchText() string {
	var words []string
	for _, f := range []string{l.Name, l.Email, l.Company, l.Phone} {
		words = append(words, SearchWords(f)...)
	}
	for _, t := range l.Tags {
		words = append(words, SearchWords(t)...)
	}
	return strings.Join(words, " ")
}

// LeadDeletedReason is why a queued message of a deleted lead is never
// sent: the worker finds its lead gone, or the deletion erased it first.
const LeadDeletedReason = "The lead was deleted"

// UnheldToken returns a fresh random token that nobody holds: what replaces
// the tokens of an erased message, so that every link of it is dead.
func UnheldToken() string { return "erased-" + rand.Text() }

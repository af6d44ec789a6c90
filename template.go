package axiom

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

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

// Apply returns t with the fields p sets, stamped updated at now.
func (p TemplatePatch) Apply(t Template, now time.Time) Template {
	if p.Name != nil {
		t.Name = *p.Name
	}
	if p.Subject != nil {
		t.Subject = *p.Subject
	}
	if p.Content != nil {
		t.Content = *p.Content
	}
	t.UpdatedAt = StoreTime(now)
	return t
}

// NewTemplate returns t as it is created now in account accountID, under a
// new slug made from its name. A slug is never used twice in an account,
// even after its template is deleted: a clash is retried with a new slug.
func NewTemplate(accountID string, t Template, now time.Time) Template {
	now = StoreTime(now)
	t.AccountID, t.Slug, t.CreatedAt, t.UpdatedAt = accountID, NewSlug(t.Name), now, now
	return t
}

// TemplateNotFound is the error of a slug the account does not have.
func TemplateNotFound(slug string) *Error {
	return Errorf(CodeNotFound, "No template with slug '%s'", slug)
}

// maxSlugBase is how much of the name a slug keeps.
const maxSlugBase = 64

// NewSlug is the name slugified and 8 random hex digits, as the page's
// "from-api-1612d101": lower-case a-z and 0-9, every other run one "-".
func NewSlug(name string) string {
	var suffix [4]byte
	rand.Read(suffix[:])
	return slugBase(name) + "-" + hex.EncodeToString(suffix[:])
}

// DerivedSlug is a slug of name like NewSlug's, whose hex digits are
// drawn from the SHA-256 of name and parts: the same every time.
func DerivedSlug(name string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{name}, parts...), "\x00")))
	return slugBase(name) + "-" + hex.EncodeToString(h[:4])
}

// slugBase is name slugified: lower-case a-z and 0-9, every other run one "-".
func slugBase(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	base := strings.TrimRight(b.String()[:min(b.Len(), maxSlugBase)], "-")
	if base == "" {
		base = "template"
	}
	return base
}

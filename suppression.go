package axiom

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// SuppressionReason is why an address is on an account's suppression list.
type SuppressionReason string

// The reasons of a suppression.
const (
	// SuppressUnsubscribed: the recipient unsubscribed (a message's link,
	// a mailbox provider's one-click button, an import).
	SuppressUnsubscribed SuppressionReason = "unsubscribed"
	// SuppressBounced: the relay refused the address for good (a 5xx reply
	// at RCPT or DATA), or a provider reported a hard bounce.
	SuppressBounced SuppressionReason = "bounced"
	// SuppressComplained: the recipient marked a message as spam, as a
	// provider's feedback loop reports it.
	SuppressComplained SuppressionReason = "complained"
	// SuppressManual: the account added the address itself.
	SuppressManual SuppressionReason = "manual"
)

// SuppressionReasons lists the reasons, in the spec's order.
func SuppressionReasons() []SuppressionReason {
	return []SuppressionReason{SuppressUnsubscribed, SuppressBounced, SuppressComplained, SuppressManual}
}

// Valid reports whether r is one of the reasons.
func (r SuppressionReason) Valid() bool { return slices.Contains(SuppressionReasons(), r) }

// MaxSuppressionDetail is the most characters of a suppression's detail;
// a relay's reply is cut to it.
const MaxSuppressionDetail = 500

// Suppression is an address an account never mails again, and why.
//
// Entries are matched by Key, the SHA-256 of the address's comparison form
// (SuppressionKey), never by the address itself: erasing the lead whose
// address it is blanks Email and Detail and keeps the hash, so the address
// is still left out and still found by whoever names it, and nobody else
// can read it back.
type Suppression struct {
	AccountID string
	Key       string // SuppressionKey(Email)
	Email     string // the address as it was suppressed; "" once erased
	Reason    SuppressionReason
	Detail    string // the relay's reply, a provider's note; may be ""; "" once erased
	// CampaignID is the campaign whose message bounced or was unsubscribed
	// from; "" for an entry the account added.
	CampaignID string
	CreatedAt  time.Time
	// ErasedAt is when the entry's address was erased with its lead; nil
	// while the entry holds it.
	ErasedAt *time.Time
}

// SuppressionKey is what a suppression list keys an address by: the
// SHA-256, in lower-case hex, of its EmailKey. Equal for every spelling
// that EmailKey equates.
func SuppressionKey(email string) string {
	sum := sha256.Sum256([]byte(EmailKey(email)))
	return hex.EncodeToString(sum[:])
}

// NewSuppression returns the suppression of email in account accountID, for
// reason, made now, or the error that says what is wrong with it.
func NewSuppression(accountID, email string, reason SuppressionReason, detail, campaignID string, now time.Time) (Suppression, error) {
	if err := CheckEmail(email); err != nil {
		return Suppression{}, Errorf(CodeInvalidParameter, "'%s' is not an email address", email)
	}
	if !reason.Valid() {
		return Suppression{}, Errorf(CodeInvalidParameter, "'%s' is not a suppression reason", reason)
	}
	if r := []rune(detail); len(r) > MaxSuppressionDetail {
		detail = string(r[:MaxSuppressionDetail-1]) + "…"
	}
	return Suppression{
		AccountID: accountID, Key: SuppressionKey(email), Email: email, Reason: reason,
		Detail: detail, CampaignID: campaignID, CreatedAt: StoreTime(now),
	}, nil
}

// SuppressionNotFound is the error of an address the account has not suppressed.
func SuppressionNotFound(email string) *Error {
	return Errorf(CodeNotFound, "The address '%s' is not suppressed", email)
}

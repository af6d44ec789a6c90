package store

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"
	"unicode"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// KeyPrefix starts every API key, so that secret scanners can spot a leaked one.
const KeyPrefix = "axm_"

// randomBase62 returns n random base-62 characters (crypto/rand, unbiased).
func randomBase62(n int) string {
	var b strings.Builder
	b.Grow(n)
	buf := make([]byte, 1)
	for b.Len() < n {
		rand.Read(buf)    // never fails (crypto/rand panics on a broken source)
		if buf[0] < 248 { // 248 = 4*62: reject the tail to stay unbiased
			b.WriteByte(base62[buf[0]%62])
		}
	}
	return b.String()
}

// NewID returns prefix followed by 22 base-62 characters: 8 that encode the
// time in milliseconds, so ids sort by creation, then 14 random ones.
func NewID(prefix string, now time.Time) string {
	ms := uint64(now.UnixMilli())
	var ts [8]byte
	for i := 7; i >= 0; i-- {
		ts[i] = base62[ms%62]
		ms /= 62
	}
	return prefix + string(ts[:]) + randomBase62(14)
}

// NewLeadID returns a new lead id, "cnt_…".
func NewLeadID(now time.Time) string { return NewID("cnt_", now) }

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

// EmailKey is the form of an email that uniqueness compares: lower-cased.
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

// SearchWords splits a search query into its words: runs of letters and
// digits, lower-cased. The rest only separates words.
func SearchWords(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// NewKey returns a new key of an account, ready for CreateKey, and its
// secret: shown to its owner once, never stored.
func NewKey(accountID, name string, readOnly bool, now time.Time) (Key, string) {
	secret, hash, hint := NewSecret()
	return Key{
		ID: NewID("key_", now), AccountID: accountID, Name: name,
		Hash: hash, Hint: hint, ReadOnly: readOnly, CreatedAt: now,
	}, secret
}

package axiom

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
	"sync"
	"time"
)

// The prefixes of the ids the API hands out: lead ids keep the page's
// "cnt_" ("contact").
const (
	PrefixLead     = "cnt_"
	PrefixCampaign = "cmp_"
	PrefixProperty = "prp_"
	PrefixMessage  = "msg_"
	PrefixAccount  = "acc_"
	PrefixKey      = "key_"
	PrefixRequest  = "req_"
	PrefixWorker   = "wrk_"
)

// maxIDBody is the most characters an id may have after its prefix, as the
// spec's id patterns say (^cnt_[0-9A-Za-z]{1,32}$ and its kin).
const maxIDBody = 32

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

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

// ids makes the ids of this process monotonic: within one millisecond, or
// when the clock steps back, an id is the previous one plus one, so that
// ids sort by creation even when many are made at once.
var ids struct {
	sync.Mutex
	ms   uint64
	rand [14]byte // base-62 digits
}

// NewID returns prefix followed by 22 base-62 characters: 8 that encode the
// time in milliseconds, then 14 random ones, so that ids sort by creation
// (strictly, within one process).
func NewID(prefix string, now time.Time) string {
	ms := uint64(max(now.UnixMilli(), 0))
	ids.Lock()
	if ms > ids.ms {
		ids.ms = ms
		copy(ids.rand[:], randomBase62(len(ids.rand)))
	} else if !increment(ids.rand[:]) {
		ids.ms++ // 62^14 ids in one millisecond: borrow the next
	}
	ms = ids.ms
	suffix := ids.rand
	ids.Unlock()
	var ts [8]byte
	for i := 7; i >= 0; i-- {
		ts[i] = base62[ms%62]
		ms /= 62
	}
	return prefix + string(ts[:]) + string(suffix[:])
}

// increment adds one to the base-62 number in digits, reporting false on
// overflow.
func increment(digits []byte) bool {
	for i := len(digits) - 1; i >= 0; i-- {
		if d := strings.IndexByte(base62, digits[i]); d < 61 {
			digits[i] = base62[d+1]
			return true
		}
		digits[i] = base62[0]
	}
	return false
}

// DerivedID returns prefix followed by 22 base-62 characters drawn from
// the SHA-256 of parts: the same id every time it is derived from the same
// parts, for records a fixture names by what they hold rather than by id.
func DerivedID(prefix string, parts ...string) string {
	return prefix + derived(22, parts...)
}

// derived is n base-62 characters of the SHA-256 of parts, each part
// ended by a NUL so that ("ab", "c") and ("a", "bc") differ.
func derived(n int, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	v := new(big.Int).SetBytes(h.Sum(nil))
	b := make([]byte, n)
	base := big.NewInt(62)
	digit := new(big.Int)
	for i := range b {
		v.DivMod(v, base, digit)
		b[i] = base62[digit.Int64()]
	}
	return string(b)
}

// ValidID reports whether s is an id of the kind prefix names: the prefix
// and 1 to 32 ASCII letters and digits, as the spec's patterns say.
func ValidID(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || body == "" || len(body) > maxIDBody {
		return false
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	return true
}

// StoreTime is t as records keep it: UTC, in whole milliseconds, the
// precision every backend keeps.
func StoreTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

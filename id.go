package axiom

import (
	"crypto/rand"
	"strings"
	"time"
)

// The prefixes of the ids the API hands out: lead ids keep the page's
// "cnt_" ("contact").
const (
	PrefixLead     = "cnt_"
	PrefixCampaign = "cmp_"
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

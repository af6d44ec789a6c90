package validation

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSimplePatternIsRegexp compares each hand-compiled pattern with Go's
// regexp on edge cases and random strings, the spec's patterns included.
func TestSimplePatternIsRegexp(t *testing.T) {
	patterns := map[string]bool{ // pattern → whether it must compile
		`\S`: true, `^[0-9A-Za-z_-]+$`: true, `^[\x21-\x7E]+$`: true, `^cnt_[0-9A-Za-z]{1,32}$`: true,
		`^x[a-c]{2,3}$`: true, `^[a-c]*$`: true, `^ab[0-9]?$`: true, `^é[à-ü]{1,2}$`: true, `[^a]`: true,
		`^(\+[1-9][0-9]{6,14})?$`: false, `^a+`: false, `a+$`: false, `(?i)^ab[c]+$`: false, `^[a-c]+x$`: false,
		`.`: false, `^a$`: false, `^([a-z0-9]+-)+[0-9a-f]{8}$`: false,
	}
	_ = spec(t).WalkSchemas(func(_ string, s *openapi3.SchemaRef) error {
		if s.Value.Pattern != "" {
			if _, ok := patterns[goPattern(s.Value.Pattern)]; !ok {
				patterns[goPattern(s.Value.Pattern)] = false // compared if compiled, not required to
			}
		}
		return nil
	})
	cases := []string{"", " ", "\t\n\f\r ", "\v", "a", "ab", "abc", "cnt_", "cnt_A", "cnt_" + strings.Repeat("a", 32),
		"cnt_" + strings.Repeat("a", 33), "CNT_a", "cnt_a b", "x", "xab", "xabc", "xabcd", "é", "éà", "éàü", "éàüà",
		"\xff", "a\xff", "cnt_\xff", "\u00a0", "\u2028", "~", "!", "\x7f", "zz-00ff00ff", "+12345678", "ab0", "ab01"}
	r := rand.New(rand.NewPCG(7, 11))
	alphabet := []rune("abcxyzABC019_-+~! \t\n\r\f\véàü\u00a0\u2028\x7f\ufffd")
	for range 3000 {
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteString([]string{"cnt_", "x", "ab", "é"}[r.IntN(4)])
		}
		for range r.IntN(40) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		if r.IntN(20) == 0 {
			b.WriteByte(0xff)
		}
		cases = append(cases, b.String())
	}
	for p, must := range patterns {
		re := regexp.MustCompile(p)
		m := simplePattern(p)
		if m == nil {
			if must {
				t.Errorf("%s: not compiled", p)
			}
			continue
		}
		for _, s := range cases {
			if got, want := m([]byte(s)), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", p, s, got, want)
			}
		}
	}
}

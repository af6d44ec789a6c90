package validation

import (
	"regexp/syntax"
	"unicode/utf8"
)

// simplePattern returns a check equivalent to the Go regexp expr for the
// shapes the spec gives most strings of a page, or nil for any other:
//
//	\S                    one character of a class, anywhere
//	^[0-9A-Za-z_-]+$      a class repeated, the whole string
//	^cnt_[0-9A-Za-z]{1,32}$  a literal, then a class repeated
//
// Go's regexp takes about a microsecond a match, and a page of 20 leads
// matches some two hundred strings; these take a few nanoseconds a byte.
func simplePattern(expr string) func([]byte) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	if re.Op == syntax.OpCharClass {
		class := re.Rune
		return func(s []byte) bool {
			for len(s) > 0 {
				r, size := utf8.DecodeRune(s)
				if inClass(class, r) {
					return true
				}
				s = s[size:]
			}
			return false
		}
	}
	if re.Op != syntax.OpConcat {
		return nil
	}
	subs := re.Sub
	if len(subs) < 3 || subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return nil
	}
	subs = subs[1 : len(subs)-1]
	var prefix []byte
	if subs[0].Op == syntax.OpLiteral && subs[0].Flags&syntax.FoldCase == 0 {
		for _, r := range subs[0].Rune {
			prefix = utf8.AppendRune(prefix, r)
		}
		subs = subs[1:]
	}
	if len(subs) != 1 || len(subs[0].Sub) != 1 || subs[0].Sub[0].Op != syntax.OpCharClass {
		return nil
	}
	rep := subs[0]
	lo, hi := 0, -1
	switch rep.Op {
	case syntax.OpRepeat:
		lo, hi = rep.Min, rep.Max
	case syntax.OpPlus:
		lo = 1
	case syntax.OpStar:
	case syntax.OpQuest:
		hi = 1
	default:
		return nil
	}
	class := rep.Sub[0].Rune
	return func(s []byte) bool {
		if len(s) < len(prefix) || string(s[:len(prefix)]) != string(prefix) {
			return false
		}
		n := 0
		for s = s[len(prefix):]; len(s) > 0; n++ {
			r, size := utf8.DecodeRune(s)
			if !inClass(class, r) || hi >= 0 && n >= hi {
				return false
			}
			s = s[size:]
		}
		return n >= lo
	}
}

// inClass reports whether r is in class, pairs of inclusive bounds.
func inClass(class []rune, r rune) bool {
	for i := 0; i+1 < len(class); i += 2 {
		if r < class[i] {
			return false // the pairs are sorted
		}
		if r <= class[i+1] {
			return true
		}
	}
	return false
}

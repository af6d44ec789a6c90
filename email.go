package axiom

import "errors"

// ErrEmail is CheckEmail's answer to a string that is not an email address.
var ErrEmail = errors.New("not an email address")

// CheckEmail is the one definition of a valid email, shared by the server's
// validation, the contract suite and the client: local@domain where local
// is an RFC 5322 dot-atom and domain a dot-separated list of host labels;
// bytes above 0x7F are allowed in both (RFC 6531). Quoted local parts and
// address literals are refused: no client of a CRM needs them and they are
// where parsers disagree.
func CheckEmail(s string) error {
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			if at >= 0 {
				return ErrEmail
			}
			at = i
		}
	}
	if at < 1 || at > 64 || len(s)-at-1 < 1 || len(s)-at-1 > 253 {
		return ErrEmail
	}
	if !dotSeparated(s[:at], isAtext, false) || !dotSeparated(s[at+1:], isLabelByte, true) {
		return ErrEmail
	}
	return nil
}

// dotSeparated reports whether s is non-empty parts of ok bytes joined by
// single dots; labels also limits parts to 63 bytes that neither start nor
// end with a hyphen.
func dotSeparated(s string, ok func(byte) bool, labels bool) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if !ok(s[i]) {
				return false
			}
			continue
		}
		part := s[start:i]
		if part == "" || labels && (len(part) > 63 || part[0] == '-' || part[len(part)-1] == '-') {
			return false
		}
		start = i + 1
	}
	return true
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~':
		return true
	}
	return false
}

func isLabelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c >= 0x80
}

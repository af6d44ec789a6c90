package validation

import (
	"errors"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3"
)

// formatValidators are the string formats this package checks, passed to
// kin-openapi per validation so that no package-level registry is touched.
// They replace kin-openapi's regular expressions for date-time (slower) and
// add email and uri, which it does not check by default.
func formatValidators() map[string]openapi3.StringFormatValidator {
	return map[string]openapi3.StringFormatValidator{
		"email":     openapi3.NewCallbackValidator(validateEmail),
		"date-time": openapi3.NewCallbackValidator(validateDateTime),
		"date":      openapi3.NewCallbackValidator(validateDate),
		"uri":       openapi3.NewCallbackValidator(validateURI),
	}
}

var (
	errEmail    = errors.New("not an email address")
	errDateTime = errors.New("not an RFC 3339 date-time")
	errDate     = errors.New("not an RFC 3339 date")
	errURI      = errors.New("not an absolute URI")
)

// formatNoun names what a value of format should be, for messages.
func formatNoun(format string) string {
	switch format {
	case "email":
		return "an email address"
	case "date-time":
		return "an RFC 3339 date-time"
	case "date":
		return "an RFC 3339 date"
	case "uri":
		return "an absolute URI"
	case "uuid":
		return "a UUID"
	default:
		return "a valid " + format
	}
}

// validateEmail accepts local@domain where local is an RFC 5322 dot-atom and
// domain a dot-separated list of host labels; bytes above 0x7F are allowed in
// both (RFC 6531). Quoted local parts and address literals are refused: no
// client of a CRM needs them and they are where parsers disagree.
func validateEmail(s string) error {
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			if at >= 0 {
				return errEmail
			}
			at = i
		}
	}
	if at < 1 || at > 64 || len(s)-at-1 < 1 || len(s)-at-1 > 253 {
		return errEmail
	}
	if !dotSeparated(s[:at], isAtext, false) || !dotSeparated(s[at+1:], isLabelByte, true) {
		return errEmail
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

// validateDateTime accepts RFC 3339's date-time (section 5.6), checking that
// the day exists in its month; it is several times faster than a regular
// expression, which matters on every timestamp of every response.
func validateDateTime(s string) error {
	// 2006-01-02T15:04:05Z is the shortest form.
	if len(s) < 20 || validateDate(s[:10]) != nil || s[10] != 'T' && s[10] != 't' {
		return errDateTime
	}
	if !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2) ||
		num(s, 11, 2) > 23 || num(s, 14, 2) > 59 || num(s, 17, 2) > 60 {
		return errDateTime
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return errDateTime
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z" || rest == "z":
		return nil
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest, 1, 2) && rest[3] == ':' &&
		digits(rest, 4, 2) && num(rest, 1, 2) <= 23 && num(rest, 4, 2) <= 59:
		return nil
	}
	return errDateTime
}

// validateDate accepts RFC 3339's full-date, YYYY-MM-DD, of a day that exists.
func validateDate(s string) error {
	if len(s) != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2) {
		return errDate
	}
	year, month, day := num(s, 0, 4), num(s, 5, 2), num(s, 8, 2)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return errDate
	}
	return nil
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digits(s string, at, n int) bool {
	for i := at; i < at+n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func num(s string, at, n int) int {
	v := 0
	for i := at; i < at+n; i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// validateURI accepts an absolute URI (RFC 3986 section 4.3): a scheme, no
// white space or control characters, and what net/url can parse.
func validateURI(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7F {
			return errURI
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return errURI
	}
	return nil
}

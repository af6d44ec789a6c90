package sqlstore

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The JSON columns of leads (tags, notes, custom fields) hold only strings,
// written by json.Marshal or re-spaced by PostgreSQL's jsonb. Reading them
// was about a sixth of a list request through encoding/json's reflection;
// decodeStrings and decodeStringMap read the common case, strings without
// escapes, directly, and hand anything else to encoding/json, so that they
// accept and return exactly what json.Unmarshal does.

// decodeStrings is json.Unmarshal(b, &out) for out a []string. The strings
// of the fast path share b's memory: the driver gives each column a string
// of its own, so this saves an allocation per string.
func decodeStrings(b string) ([]string, error) {
	if out, ok := fastStrings(b); ok {
		return out, nil
	}
	var out []string
	err := json.Unmarshal([]byte(b), &out)
	return out, err
}

// decodeStringMap is json.Unmarshal(b, &out) for out a map[string]string,
// its fast path's strings sharing b's memory.
func decodeStringMap(b string) (map[string]string, error) {
	if out, ok := fastStringMap(b); ok {
		return out, nil
	}
	var out map[string]string
	err := json.Unmarshal([]byte(b), &out)
	return out, err
}

// jsonReader reads the tokens of the fast path; any surprise sets bad.
type jsonReader struct {
	b   string
	i   int
	bad bool
}

func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// byte consumes c after any spaces, and says whether it was there.
func (r *jsonReader) byte(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a string with no escape and valid UTF-8 (anything else is bad,
// for encoding/json to read).
func (r *jsonReader) str() string {
	if !r.byte('"') {
		r.bad = true
		return ""
	}
	rest := r.b[r.i:]
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		r.bad = true
		return ""
	}
	s := rest[:end]
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '\\' {
			r.bad = true
			return ""
		}
	}
	if !utf8.ValidString(s) {
		r.bad = true
		return ""
	}
	r.i += end + 1
	return s
}

// end says whether only spaces are left.
func (r *jsonReader) end() bool {
	r.space()
	return r.i == len(r.b)
}

func fastStrings(b string) ([]string, bool) {
	r := jsonReader{b: b}
	out := r.strings()
	return out, !r.bad && r.end()
}

func fastStringMap(b string) (map[string]string, bool) {
	r := jsonReader{b: b}
	out := r.stringMap()
	return out, !r.bad && r.end()
}

// strings reads an array of strings.
func (r *jsonReader) strings() []string {
	if !r.byte('[') {
		r.bad = true
		return nil
	}
	out := make([]string, 0, 1+strings.Count(r.b[r.i:r.i+strings.IndexByte(r.b[r.i:], ']')+1], ","))
	if r.byte(']') {
		return out
	}
	for {
		out = append(out, r.str())
		if r.bad {
			return nil
		}
		if r.byte(']') {
			return out
		}
		if !r.byte(',') {
			r.bad = true
			return nil
		}
	}
}

// stringMap reads an object whose values are strings.
func (r *jsonReader) stringMap() map[string]string {
	if !r.byte('{') {
		r.bad = true
		return nil
	}
	out := make(map[string]string, 1+strings.Count(r.b[r.i:r.i+strings.IndexByte(r.b[r.i:], '}')+1], ","))
	if r.byte('}') {
		return out
	}
	for {
		k := r.str()
		if r.bad || !r.byte(':') {
			r.bad = true
			return nil
		}
		v := r.str()
		if r.bad {
			return nil
		}
		// encoding/json keeps the last of repeated keys, as does this.
		out[k] = v
		if r.byte('}') {
			return out
		}
		if !r.byte(',') {
			r.bad = true
			return nil
		}
	}
}

// int reads an integer: an optional minus sign and at most 18 digits,
// without a leading zero (anything else is bad, for encoding/json to read).
func (r *jsonReader) int() int64 {
	r.space()
	neg := r.i < len(r.b) && r.b[r.i] == '-'
	if neg {
		r.i++
	}
	start := r.i
	var v int64
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		v = v*10 + int64(r.b[r.i]-'0')
		r.i++
	}
	if n := r.i - start; n == 0 || n > 18 || n > 1 && r.b[start] == '0' {
		r.bad = true
		return 0
	}
	if neg {
		v = -v
	}
	return v
}

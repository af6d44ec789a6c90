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
	if !r.byte('[') {
		return nil, false
	}
	out := make([]string, 0, 1+strings.Count(b, ","))
	if r.byte(']') {
		return out, r.end()
	}
	for {
		out = append(out, r.str())
		if r.bad {
			return nil, false
		}
		if r.byte(']') {
			return out, r.end()
		}
		if !r.byte(',') {
			return nil, false
		}
	}
}

func fastStringMap(b string) (map[string]string, bool) {
	r := jsonReader{b: b}
	if !r.byte('{') {
		return nil, false
	}
	out := make(map[string]string, 1+strings.Count(b, ","))
	if r.byte('}') {
		return out, r.end()
	}
	for {
		k := r.str()
		if r.bad || !r.byte(':') {
			return nil, false
		}
		v := r.str()
		if r.bad {
			return nil, false
		}
		// encoding/json keeps the last of repeated keys, as does this.
		out[k] = v
		if r.byte('}') {
			return out, r.end()
		}
		if !r.byte(',') {
			return nil, false
		}
	}
}

package campaign

import (
	"fmt"
	"maps"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/axiomkit/axiom"
)

// A merge field in a URL attribute is filled in for the part of the URL
// the template's own text puts it in, read as browsers read URLs (the
// WHATWG URL standard): a value is percent-encoded in the path, the query
// and the fragment, so that it stays one segment, one query value or the
// fragment; in the scheme or the authority (user, host, port) it may only
// be letters, digits and hyphens, else the message is refused, since the
// lead's data would choose where the link leads. An attribute that is a
// single field is a whole URL from the lead's data, kept when it is safe;
// {{unsubscribe_url}}, the API's own link, stands as if the template wrote
// it.

// urlPart is where a merge field stands in a URL.
type urlPart uint8

const (
	inScheme urlPart = iota
	inAuthority
	inPath
	inQuery
	inFragment
)

// MergeError is why a message is refused: the value of a merge field
// would change where one of its template's links leads.
type MergeError struct {
	Link   int    // the URL attribute, counted from 1 in the template's order
	Tag    string // its element, such as "a"
	Attr   string // such as "href"
	Field  string // such as "custom.site"
	Reason string // such as "would change the link's host"
}

func (e *MergeError) Error() string {
	return fmt.Sprintf("link %d (%s of <%s>): the value of %s %s", e.Link, e.Attr, e.Tag, e.Field, e.Reason)
}

// Reasons of a refusal.
const (
	changesScheme = "would change the link's scheme"
	changesHost   = "would change the link's host"
	makesDots     = `would make a "." or ".." segment of the link's path`
)

// urlRefusal is a field whose value cannot be merged into a URL.
type urlRefusal struct{ field, reason string }

// checkLinks returns a *MergeError for the first URL attribute of the HTML
// content whose merge fields cannot be filled in with values. It reads
// attribute values unescaped, as fillAttrs does, and refuses also for a
// field written with character references.
func checkLinks(content string, values map[string]string) error {
	if !strings.Contains(content, "{{") {
		return nil
	}
	z := xhtml.NewTokenizer(strings.NewReader(content))
	link := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return nil
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
		default:
			continue
		}
		name, more := z.TagName()
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			key := strings.ToLower(string(k))
			if !urlAttrs[key] || placeholder.Match(k) {
				continue
			}
			link++
			if !placeholder.Match(v) {
				continue
			}
			if _, r := mergeURL(string(v), values); r != nil {
				return &MergeError{Link: link, Tag: string(name), Attr: key, Field: r.field, Reason: r.reason}
			}
		}
	}
}

// urlItem is one byte of a URL as browsers parse it (tabs and line breaks
// removed, leading and trailing spaces trimmed), or one merge field
// (field >= 0, the index of its match).
type urlItem struct {
	c     byte
	field int32
}

// urlItems are the items of s, whose merge fields are at locs.
func urlItems(s string, locs [][]int) []urlItem {
	items := make([]urlItem, 0, len(s))
	lit := func(from, to int) {
		for i := from; i < to; i++ {
			if c := s[i]; c != '\t' && c != '\n' && c != '\r' {
				items = append(items, urlItem{c: c, field: -1})
			}
		}
	}
	prev := 0
	for i, l := range locs {
		lit(prev, l[0])
		items = append(items, urlItem{field: int32(i)})
		prev = l[1]
	}
	lit(prev, len(s))
	start, end := 0, len(items)
	for start < end && items[start].field < 0 && items[start].c <= ' ' {
		start++
	}
	for end > start && items[end-1].field < 0 && items[end-1].c <= ' ' {
		end--
	}
	return items[start:end]
}

// urlLayout is where each item of a URL stands.
type urlLayout struct {
	part         []urlPart
	scheme       string // lower-cased, "" for none; a field in it counts as "*"
	hasAuthority bool
	authority    [2]int // the items of the authority, slashes before it left out
	hierarchical bool   // the path has segments (dot segments count)
	special      bool   // a backslash is a slash
}

// specialSchemes are those whose URLs browsers parse with a host always
// and a backslash read as a slash.
var specialSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true, "file": true}

// layoutOf places each item of a URL in its part. A merge field counts as
// letters: where the field may stand, not what a value may make of it.
// Where browsers differ by context, it takes the reading in which more of
// the URL is authority.
func layoutOf(items []urlItem) urlLayout {
	n := len(items)
	l := urlLayout{part: make([]urlPart, n)}
	lit := func(i int, set string) bool {
		return i < n && items[i].field < 0 && strings.IndexByte(set, items[i].c) >= 0
	}
	pos, schemeEnd := 0, -1
	if n > 0 && (items[0].field >= 0 || isASCIIAlpha(items[0].c)) {
		j := 0
		for j < n && (items[j].field >= 0 || isSchemeChar(items[j].c)) {
			j++
		}
		if lit(j, ":") {
			schemeEnd = j
		}
	}
	if schemeEnd >= 0 {
		var b strings.Builder
		for i := range schemeEnd + 1 {
			l.part[i] = inScheme
			if items[i].field >= 0 {
				b.WriteByte('*')
			} else if i < schemeEnd {
				b.WriteByte(lower(items[i].c))
			}
		}
		l.scheme = b.String()
		// A field in the scheme may make any of them: read as special.
		l.special = specialSchemes[l.scheme] || strings.Contains(l.scheme, "*")
		pos = schemeEnd + 1
	}
	switch {
	case l.special:
		// "https:host", "https:/host" and "https:\\host" have a host too.
		for lit(pos, `/\`) {
			l.part[pos] = inAuthority
			pos++
		}
		l.hasAuthority = true
	case schemeEnd >= 0:
		if lit(pos, "/") && lit(pos+1, "/") {
			l.part[pos], l.part[pos+1] = inAuthority, inAuthority
			pos += 2
			l.hasAuthority = true
		}
	default:
		// Relative: "//host" and, against an http base, "\\host".
		if lit(pos, `/\`) && lit(pos+1, `/\`) {
			l.part[pos], l.part[pos+1] = inAuthority, inAuthority
			pos += 2
			l.hasAuthority = true
		}
	}
	ends := "/?#"
	if l.special || schemeEnd < 0 {
		ends = `/\?#`
	}
	if l.hasAuthority {
		l.authority[0] = pos
		for pos < n && !lit(pos, ends) {
			l.part[pos] = inAuthority
			pos++
		}
		l.authority[1] = pos
	}
	l.hierarchical = l.hasAuthority || schemeEnd < 0 || lit(pos, "/")
	for pos < n && !lit(pos, "?#") {
		l.part[pos] = inPath
		pos++
	}
	if lit(pos, "?") {
		for pos < n && !lit(pos, "#") {
			l.part[pos] = inQuery
			pos++
		}
	}
	for ; pos < n; pos++ {
		l.part[pos] = inFragment
	}
	return l
}

// origin is the scheme and authority of a URL laid out in l, fields filled
// in with vals: what decides where it leads.
func (l urlLayout) origin(items []urlItem, vals []string) string {
	var b strings.Builder
	for i, it := range items {
		if l.part[i] != inScheme && (i < l.authority[0] || i >= l.authority[1]) {
			continue
		}
		if it.field >= 0 {
			b.WriteString(strings.ToLower(vals[it.field]))
		} else {
			b.WriteByte(lower(it.c))
		}
		if l.part[i] == inScheme && i+1 < len(items) && l.part[i+1] != inScheme {
			b.WriteString("//") // "https:host" and "https://host" lead to the same place
		}
	}
	if !l.hasAuthority {
		b.WriteString(" (no host)")
	}
	return b.String()
}

// mergeURL fills in the merge fields of a URL attribute's value s, each
// for its part of the URL, or says why it cannot. A value that is a
// single field is a whole URL from the lead's data: it is kept if it is
// safe, as any result is; an unsafe one becomes "#".
func mergeURL(s string, values map[string]string) (string, *urlRefusal) {
	if strings.Contains(s, "unsubscribe_url") {
		// The API's own link, not lead data: it stands as if the template
		// wrote it, so that "{{unsubscribe_url}}?src=mail" still works.
		s = placeholder.ReplaceAllStringFunc(s, func(m string) string {
			if placeholder.FindStringSubmatch(m)[1] == "unsubscribe_url" {
				return values["unsubscribe_url"]
			}
			return m
		})
	}
	locs := placeholder.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		if !safeURL(s) {
			return "#", nil
		}
		return s, nil
	}
	name := func(i int) string { return s[locs[i][2]:locs[i][3]] }
	if len(locs) == 1 && strings.TrimFunc(s, isURLSpace) == s[locs[0][0]:locs[0][1]] {
		if v := values[name(0)]; safeURL(v) {
			return v, nil
		}
		return "#", nil
	}
	items := urlItems(s, locs)
	l := layoutOf(items)
	part := make([]urlPart, len(locs))
	for i, it := range items {
		if it.field >= 0 {
			part[it.field] = l.part[i]
		}
	}
	vals := make([]string, len(locs))
	for i := range locs {
		v := values[name(i)]
		switch part[i] {
		case inScheme:
			if !hostLabel(v) {
				return "", &urlRefusal{name(i), changesScheme}
			}
		case inAuthority:
			if !hostLabel(v) {
				return "", &urlRefusal{name(i), changesHost}
			}
		case inPath:
			if l.hierarchical {
				v = percentEncode(v, "")
			} else {
				// A mailto: or tel: address, which has no host to confuse.
				v = percentEncode(v, "@+")
			}
		default: // the query and the fragment
			v = percentEncode(v, "")
		}
		vals[i] = v
	}
	if l.hierarchical {
		if f := dotSegment(items, l, vals); f >= 0 {
			return "", &urlRefusal{name(f), makesDots}
		}
	}
	var b strings.Builder
	prev := 0
	for i, loc := range locs {
		b.WriteString(s[prev:loc[0]])
		b.WriteString(vals[i])
		prev = loc[1]
	}
	b.WriteString(s[prev:])
	out := b.String()
	// Values of the scheme and authority are letters, digits and hyphens,
	// the others escaped, yet a field there, or an empty one, can still
	// move the host ("https://{{x}}/a" is "https:///a", whose host is "a";
	// "/{{x}}/a" is "//a"): the result must lead where the template does.
	if mayMove(part, vals) && !sameOrigin(out, items, l, vals) {
		f, reason := -1, changesHost
		for i := range locs {
			if f < 0 || (part[i] <= inAuthority && part[f] > inAuthority) {
				f = i
			}
		}
		if part[f] == inScheme {
			reason = changesScheme
		}
		return "", &urlRefusal{name(f), reason}
	}
	if !safeURL(out) {
		return "#", nil
	}
	return out, nil
}

// sameOrigin reports whether the URL out has the scheme and authority of
// the template's URL laid out in l with its fields filled in with vals.
func sameOrigin(out string, items []urlItem, l urlLayout, vals []string) bool {
	outItems := urlItems(out, nil)
	return layoutOf(outItems).origin(outItems, nil) == l.origin(items, vals)
}

// mayMove reports whether the values of a URL's fields, in their parts,
// could make its scheme or host other than its template's.
func mayMove(part []urlPart, vals []string) bool {
	for i, p := range part {
		if p <= inAuthority || vals[i] == "" {
			return true
		}
	}
	return false
}

// dotSegment returns the field that makes a path segment "." or ".."
// (which browsers remove, with the segment before for ".."), or -1.
func dotSegment(items []urlItem, l urlLayout, vals []string) int {
	var seg strings.Builder
	field := int32(-1)
	for i := 0; i <= len(items); i++ {
		end := i == len(items) || l.part[i] != inPath || (items[i].field < 0 && (items[i].c == '/' || items[i].c == '\\'))
		if end {
			if field >= 0 {
				d := strings.ReplaceAll(strings.ToLower(seg.String()), "%2e", ".")
				if d == "." || d == ".." {
					return int(field)
				}
			}
			seg.Reset()
			field = -1
			continue
		}
		if items[i].field >= 0 {
			seg.WriteString(vals[items[i].field])
			if field < 0 {
				field = items[i].field
			}
		} else {
			seg.WriteByte(items[i].c)
		}
	}
	return -1
}

// percentEncode escapes every byte of v but ASCII letters, digits, "-",
// ".", "_", "~" and those of keep: the value cannot end its path segment,
// its query value or the fragment, nor be read as a scheme or, unless
// kept, a user ("@") by any parser.
func percentEncode(v, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isASCIIAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// hostLabel reports whether v is made of what a host name's label holds
// and nothing else: ASCII letters, digits and hyphens.
func hostLabel(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isASCIIAlpha(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

func isASCIIAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isSchemeChar(c byte) bool {
	return isASCIIAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.'
}
func isURLSpace(r rune) bool { return r <= ' ' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// linkValues are the values the body of m is rendered with.
func linkValues(m axiom.Message, unsubscribeURL string) map[string]string {
	values := make(map[string]string, len(m.Merge)+1)
	maps.Copy(values, m.Merge)
	values["unsubscribe_url"] = unsubscribeURL
	return values
}

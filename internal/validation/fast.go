package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/getkin/kin-openapi/openapi3"
)

// fastSchema is an OpenAPI 3.0 schema compiled to validate JSON text in one
// pass, building nothing. kin-openapi first decodes a body into
// map[string]any and then walks it, allocating on the way: for a page of
// leads that costs several times what encoding it did (BenchmarkCheckResponse).
// Only the keywords below compile; a schema using any other falls back to
// kin-openapi, which also explains every failure in its own terms.
type fastSchema struct {
	types    jsonTypes
	nullable bool
	enum     map[string]struct{} // string enums only; nil when none

	minLength int // in characters, as kin-openapi counts them
	maxLength int // -1: none
	pattern   *regexp.Regexp
	match     func([]byte) bool              // pattern's check: simplePattern's, or the regexp's
	format    openapi3.StringFormatValidator // nil: none or not checked

	min, max       float64
	hasMin, hasMax bool
	fmtMin, fmtMax float64 // the range of an int32 or int64 format, as kin-openapi checks it
	hasFmt         bool
	exclMin        bool
	exclMax        bool

	items              *fastSchema // nil: any
	minItems, maxItems int         // maxItems -1: none
	unique             bool        // of string items

	props       map[string]int // name → index in propSchemas and bits
	propSchemas []*fastSchema  // nil entries: any
	propNames   []string
	required    uint64      // bits of required properties
	closed      bool        // additionalProperties: false
	additional  *fastSchema // nil: any
	minProps    int
	maxProps    int // -1: none
}

type jsonTypes uint8

const (
	tString jsonTypes = 1 << iota
	tNumber
	tInteger
	tBoolean
	tArray
	tObject
)

var typeBits = map[string]jsonTypes{
	openapi3.TypeString: tString, openapi3.TypeNumber: tNumber, openapi3.TypeInteger: tInteger,
	openapi3.TypeBoolean: tBoolean, openapi3.TypeArray: tArray, openapi3.TypeObject: tObject,
}

// errUnsupported marks a schema that must be left to kin-openapi.
var errUnsupported = errors.New("schema keyword not compiled")

// compileFast compiles s for validating responses, or fails with
// errUnsupported. formats are the per-validation format validators, looked
// up before kin-openapi's global ones as kin-openapi does.
func compileFast(s *openapi3.Schema, formats map[string]openapi3.StringFormatValidator, memo map[*openapi3.Schema]*fastSchema) (*fastSchema, error) {
	if f, ok := memo[s]; ok {
		return f, nil
	}
	if len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || s.Not != nil || s.Discriminator != nil ||
		s.MultipleOf != nil || s.Always != nil || s.WriteOnly || s.Type == nil || len(*s.Type) != 1 ||
		s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil || has31Keywords(s) {
		return nil, errUnsupported
	}
	t, ok := typeBits[(*s.Type)[0]]
	if !ok {
		return nil, errUnsupported
	}
	f := &fastSchema{types: t, nullable: s.Nullable, maxLength: -1, maxItems: -1, maxProps: -1}
	memo[s] = f

	if len(s.Enum) > 0 {
		if t != tString {
			return nil, errUnsupported
		}
		f.enum = make(map[string]struct{}, len(s.Enum))
		for _, v := range s.Enum {
			str, ok := v.(string)
			if !ok {
				return nil, errUnsupported
			}
			f.enum[str] = struct{}{}
		}
	}
	switch t {
	case tString:
		f.minLength = int(s.MinLength)
		if s.MaxLength != nil {
			f.maxLength = int(*s.MaxLength)
		}
		if s.Pattern != "" {
			re, err := regexp.Compile(goPattern(s.Pattern))
			if err != nil {
				return nil, errUnsupported
			}
			f.pattern, f.match = re, simplePattern(goPattern(s.Pattern))
			if f.match == nil {
				f.match = re.Match
			}
		}
		if s.Format != "" {
			if v, ok := formats[s.Format]; ok {
				f.format = v
			} else if v, ok := openapi3.SchemaStringFormats[s.Format]; ok {
				f.format = v
			}
		}
	case tNumber, tInteger:
		switch {
		case s.Format == "":
		case t == tInteger && s.Format == "int32":
			f.fmtMin, f.fmtMax, f.hasFmt = math.MinInt32, math.MaxInt32, true
		case t == tInteger && s.Format == "int64":
			f.fmtMin, f.fmtMax, f.hasFmt = math.MinInt64, math.MaxInt64, true
		default:
			return nil, errUnsupported
		}
		if s.Min != nil {
			f.min, f.hasMin, f.exclMin = *s.Min, true, s.ExclusiveMin.IsTrue()
		}
		if s.Max != nil {
			f.max, f.hasMax, f.exclMax = *s.Max, true, s.ExclusiveMax.IsTrue()
		}
	case tArray:
		f.minItems = int(s.MinItems)
		if s.MaxItems != nil {
			f.maxItems = int(*s.MaxItems)
		}
		if s.Items != nil && s.Items.Value != nil {
			items, err := compileFast(s.Items.Value, formats, memo)
			if err != nil {
				return nil, err
			}
			f.items = items
		}
		if s.UniqueItems {
			if f.items == nil || f.items.types != tString || f.items.nullable {
				return nil, errUnsupported
			}
			f.unique = true
		}
	case tObject:
		if len(s.Properties) > 64 {
			return nil, errUnsupported
		}
		f.props = make(map[string]int, len(s.Properties))
		for name, ref := range s.Properties {
			if ref == nil || ref.Value == nil {
				return nil, errUnsupported
			}
			p, err := compileFast(ref.Value, formats, memo)
			if err != nil {
				return nil, err
			}
			f.props[name] = len(f.propSchemas)
			f.propSchemas = append(f.propSchemas, p)
			f.propNames = append(f.propNames, name)
		}
		for _, name := range s.Required {
			i, ok := f.props[name]
			if !ok {
				return nil, errUnsupported
			}
			f.required |= 1 << i
		}
		ap := s.AdditionalProperties
		f.closed = ap.Has != nil && !*ap.Has
		if !f.closed && ap.Schema != nil && ap.Schema.Value != nil {
			a, err := compileFast(ap.Schema.Value, formats, memo)
			if err != nil {
				return nil, err
			}
			f.additional = a
		}
		f.minProps = int(s.MinProps)
		if s.MaxProps != nil {
			f.maxProps = int(*s.MaxProps)
		}
	}
	return f, nil
}

func has31Keywords(s *openapi3.Schema) bool {
	return s.Const != nil || len(s.PrefixItems) > 0 || s.Contains != nil || len(s.PatternProperties) > 0 ||
		s.If != nil || s.Then != nil || s.Else != nil || len(s.DependentRequired) > 0 ||
		len(s.DependentSchemas) > 0 || s.PropertyNames != nil || s.UnevaluatedItems.Schema != nil ||
		s.UnevaluatedItems.Has != nil || s.UnevaluatedProperties.Schema != nil || s.UnevaluatedProperties.Has != nil ||
		s.MinContains != nil || s.MaxContains != nil
}

var codepoint = regexp.MustCompile(`\\u([0-9A-F]{4})`)

// goPattern rewrites \uXXXX for Go's regexp, as kin-openapi does.
func goPattern(p string) string { return codepoint.ReplaceAllString(p, `\x{$1}`) }

// fastError is why a value failed; its path is built on the way up.
type fastError struct {
	path   []string // innermost first
	reason string
}

func (e *fastError) Error() string {
	var b bytes.Buffer
	for i := len(e.path) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(e.path[i])
	}
	if b.Len() == 0 {
		return e.reason
	}
	return b.String() + ": " + e.reason
}

func fail(reason string) error { return &fastError{reason: reason} }

func at(err error, seg string) error {
	if fe, ok := err.(*fastError); ok {
		fe.path = append(fe.path, seg)
	}
	return err
}

var errSyntax = fail("not valid JSON")

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// validateJSON validates data, a complete JSON text, against f.
func validateJSON(f *fastSchema, data []byte) error {
	sc := scanner{data: data}
	if err := sc.value(f); err != nil {
		return err
	}
	sc.space()
	if sc.pos != len(sc.data) {
		return errSyntax
	}
	return nil
}

type scanner struct {
	data  []byte
	pos   int
	depth int
}

func (sc *scanner) space() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// value validates the value at pos against f; a nil f accepts any value.
func (sc *scanner) value(f *fastSchema) error {
	sc.space()
	if sc.pos >= len(sc.data) {
		return errSyntax
	}
	switch c := sc.data[sc.pos]; {
	case c == '{':
		return sc.object(f)
	case c == '[':
		return sc.array(f)
	case c == '"':
		s, err := sc.str()
		if err != nil {
			return err
		}
		return f.checkString(s)
	case c == 't' || c == 'f':
		lit := "false"
		if c == 't' {
			lit = "true"
		}
		if !bytes.HasPrefix(sc.data[sc.pos:], []byte(lit)) {
			return errSyntax
		}
		sc.pos += len(lit)
		if f != nil && f.types != tBoolean {
			return f.typeError()
		}
		return nil
	case c == 'n':
		if !bytes.HasPrefix(sc.data[sc.pos:], []byte("null")) {
			return errSyntax
		}
		sc.pos += 4
		if f != nil && !f.nullable {
			return fail("must not be null")
		}
		return nil
	case c == '-' || '0' <= c && c <= '9':
		tok, err := sc.number()
		if err != nil {
			return err
		}
		return f.checkNumber(tok)
	}
	return errSyntax
}

func (sc *scanner) object(f *fastSchema) error {
	if f != nil && f.types != tObject {
		return f.typeError()
	}
	if sc.depth++; sc.depth > maxDepth {
		return errSyntax
	}
	defer func() { sc.depth-- }()
	sc.pos++ // {
	var seen uint64
	n := 0
	sc.space()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == '}' {
		sc.pos++
	} else {
		for {
			sc.space()
			if sc.pos >= len(sc.data) || sc.data[sc.pos] != '"' {
				return errSyntax
			}
			key, err := sc.str()
			if err != nil {
				return err
			}
			sc.space()
			if sc.pos >= len(sc.data) || sc.data[sc.pos] != ':' {
				return errSyntax
			}
			sc.pos++
			var child *fastSchema
			if f != nil {
				if i, ok := f.props[string(key)]; ok {
					child = f.propSchemas[i]
					seen |= 1 << i
				} else if f.closed {
					return at(fail("is not allowed"), string(key))
				} else {
					child = f.additional
				}
			}
			if err := sc.value(child); err != nil {
				return at(err, string(key))
			}
			n++
			sc.space()
			if sc.pos >= len(sc.data) {
				return errSyntax
			}
			if sc.data[sc.pos] == ',' {
				sc.pos++
				continue
			}
			if sc.data[sc.pos] != '}' {
				return errSyntax
			}
			sc.pos++
			break
		}
	}
	if f == nil {
		return nil
	}
	if missing := f.required &^ seen; missing != 0 {
		for i, name := range f.propNames {
			if missing&(1<<i) != 0 {
				return at(fail("is required"), name)
			}
		}
	}
	if n < f.minProps || f.maxProps >= 0 && n > f.maxProps {
		return fail("has a number of members out of range")
	}
	return nil
}

func (sc *scanner) array(f *fastSchema) error {
	if f != nil && f.types != tArray {
		return f.typeError()
	}
	if sc.depth++; sc.depth > maxDepth {
		return errSyntax
	}
	defer func() { sc.depth-- }()
	sc.pos++ // [
	var items *fastSchema
	if f != nil {
		items = f.items
	}
	var seen [16][]byte // the strings so far, for uniqueItems
	strs := seen[:0]
	n := 0
	sc.space()
	if sc.pos < len(sc.data) && sc.data[sc.pos] == ']' {
		sc.pos++
	} else {
		for {
			sc.space()
			start := sc.pos
			if err := sc.value(items); err != nil {
				return at(err, strconv.Itoa(n))
			}
			if f != nil && f.unique {
				s, _ := unquote(sc.data[start:sc.pos]) // valid: items are strings
				for _, prev := range strs {
					if bytes.Equal(prev, s) {
						return fail("must not hold the same item twice")
					}
				}
				strs = append(strs, s)
			}
			n++
			sc.space()
			if sc.pos >= len(sc.data) {
				return errSyntax
			}
			if sc.data[sc.pos] == ',' {
				sc.pos++
				continue
			}
			if sc.data[sc.pos] != ']' {
				return errSyntax
			}
			sc.pos++
			break
		}
	}
	if f != nil && (n < f.minItems || f.maxItems >= 0 && n > f.maxItems) {
		return fail("has a number of items out of range")
	}
	return nil
}

// str scans the string at pos and returns its content, unescaped.
func (sc *scanner) str() ([]byte, error) {
	start := sc.pos
	sc.pos++ // "
	escaped, high := false, false
	for sc.pos < len(sc.data) {
		c := sc.data[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			if high && !utf8.Valid(sc.data[start:sc.pos]) {
				return nil, fail("is not valid UTF-8")
			}
			if escaped {
				return unquote(sc.data[start:sc.pos])
			}
			return sc.data[start+1 : sc.pos-1], nil
		case c == '\\':
			escaped = true
			if sc.pos+1 >= len(sc.data) {
				return nil, errSyntax
			}
			switch sc.data[sc.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.pos += 2
			case 'u':
				if sc.pos+6 > len(sc.data) || !isHex4(sc.data[sc.pos+2:sc.pos+6]) {
					return nil, errSyntax
				}
				sc.pos += 6
			default:
				return nil, errSyntax
			}
		case c < 0x20:
			return nil, errSyntax
		default:
			high = high || c >= utf8.RuneSelf
			sc.pos++
		}
	}
	return nil, errSyntax
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// unquote decodes a quoted JSON string as encoding/json does.
func unquote(quoted []byte) ([]byte, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return quoted[1 : len(quoted)-1], nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, errSyntax
	}
	return []byte(s), nil
}

// number scans the number at pos, per RFC 8259.
func (sc *scanner) number() ([]byte, error) {
	d, start := sc.data, sc.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return nil, errSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, errSyntax
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, errSyntax
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	sc.pos = i
	return d[start:i], nil
}

func (f *fastSchema) typeError() error {
	for name, bit := range typeBits {
		if f.types == bit {
			return fail("must be of type " + name)
		}
	}
	return fail("is of the wrong type")
}

func (f *fastSchema) checkString(s []byte) error {
	if f == nil {
		return nil
	}
	if f.types != tString {
		return f.typeError()
	}
	if f.enum != nil {
		if _, ok := f.enum[string(s)]; !ok {
			return fail("is not one of the allowed values")
		}
	}
	if f.minLength > 0 || f.maxLength >= 0 {
		n := utf8.RuneCount(s)
		if n < f.minLength || f.maxLength >= 0 && n > f.maxLength {
			return fail("has a length out of range")
		}
	}
	if f.pattern != nil && !f.match(s) {
		return fail("does not match the pattern " + f.pattern.String())
	}
	if f.format != nil {
		// Format validators keep nothing of the value past the call (their
		// errors format a copy), so the bytes need not be copied for it.
		if err := f.format.Validate(unsafe.String(unsafe.SliceData(s), len(s))); err != nil {
			return fail(fmt.Sprintf("does not match its format: %v", err))
		}
	}
	return nil
}

func (f *fastSchema) checkNumber(tok []byte) error {
	if f != nil && f.types != tNumber && f.types != tInteger {
		return f.typeError()
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return errSyntax // out of float64's range: encoding/json refuses it too
	}
	if f == nil {
		return nil
	}
	if f.types == tInteger && v != math.Trunc(v) {
		return fail("must be an integer")
	}
	if f.hasMin && (v < f.min || f.exclMin && v == f.min) || f.hasMax && (v > f.max || f.exclMax && v == f.max) ||
		f.hasFmt && (v < f.fmtMin || v > f.fmtMax) {
		return fail("is out of range")
	}
	return nil
}

package contract

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxGenLength caps generated strings, so that a schema allowing half a
// megabyte does not turn every request into one.
const maxGenLength = 600

// generator draws values from the spec's schemas, deterministically for a
// seed: valid ones (that the schema accepts) and invalid ones (that it
// rejects), each checked against the schema before use.
type generator struct {
	rnd *rand.Rand
	// domain is the run's email domain; emails counts the addresses made,
	// so that no two differ only by case.
	domain string
	emails int
	// repeat bounds the repetitions of a pattern's *, + and {n,}.
	repeat int
}

func newGenerator(seed uint64, domain string) *generator {
	return &generator{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), domain: domain}
}

// chance is true with probability p.
func (g *generator) chance(p float64) bool { return g.rnd.Float64() < p }

// between is a uniform integer in [lo, hi].
func (g *generator) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.rnd.IntN(hi-lo+1)
}

// valid draws a value the schema accepts, or fails after a few attempts.
func (g *generator) valid(s *openapi3.Schema) (any, error) {
	var last error
	for range 50 {
		v, err := roundTrip(g.draw(s, 0))
		if err != nil {
			return nil, err
		}
		if last = validate(s, v); last == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("no valid value drawn for schema: %w", shorten(last))
}

func schemaType(s *openapi3.Schema) string {
	switch {
	case s.Type == nil:
	case s.Type.Is("object"):
		return "object"
	case s.Type.Is("array"):
		return "array"
	case s.Type.Is("string"):
		return "string"
	case s.Type.Is("integer"):
		return "integer"
	case s.Type.Is("number"):
		return "number"
	case s.Type.Is("boolean"):
		return "boolean"
	}
	if len(s.Properties) > 0 {
		return "object"
	}
	return "string"
}

func (g *generator) draw(s *openapi3.Schema, depth int) any {
	if len(s.Enum) > 0 {
		return s.Enum[g.rnd.IntN(len(s.Enum))]
	}
	switch schemaType(s) {
	case "object":
		return g.drawObject(s, depth)
	case "array":
		return g.drawArray(s, depth)
	case "integer":
		lo, hi := bounds(s, -1000, 1000)
		return g.between(lo, hi)
	case "number":
		lo, hi := bounds(s, -1000, 1000)
		return float64(lo) + g.rnd.Float64()*float64(hi-lo)
	case "boolean":
		return g.chance(0.5)
	}
	return g.drawString(s)
}

func bounds(s *openapi3.Schema, lo, hi int) (int, int) {
	if s.Min != nil {
		lo = int(*s.Min)
		if s.ExclusiveMin.IsTrue() {
			lo++
		}
		hi = max(hi, lo+1000)
	}
	if s.Max != nil {
		hi = int(*s.Max)
		if s.ExclusiveMax.IsTrue() {
			hi--
		}
		lo = min(lo, hi)
	}
	return lo, hi
}

func (g *generator) drawObject(s *openapi3.Schema, depth int) map[string]any {
	obj := map[string]any{}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ref := s.Properties[name]
		if ref == nil || ref.Value == nil || ref.Value.ReadOnly {
			continue
		}
		if slices.Contains(s.Required, name) || g.chance(0.5) {
			obj[name] = g.draw(ref.Value, depth+1)
		}
	}
	for len(obj) < int(s.MinProps) && len(names) > 0 {
		name := names[g.rnd.IntN(len(names))]
		obj[name] = g.draw(s.Properties[name].Value, depth+1)
	}
	if ap := s.AdditionalProperties.Schema; ap != nil && ap.Value != nil && depth < 3 {
		n := g.between(0, 4)
		if s.MaxProps != nil {
			n = min(n, int(*s.MaxProps)-len(obj))
		}
		for range n {
			obj[g.word(1, 20)] = g.draw(ap.Value, depth+1)
		}
	}
	return obj
}

func (g *generator) drawArray(s *openapi3.Schema, depth int) []any {
	hi := int(s.MinItems) + 4
	if s.MaxItems != nil {
		hi = min(hi, int(*s.MaxItems))
	}
	n := g.between(int(s.MinItems), hi)
	arr := make([]any, 0, n)
	seen := map[string]bool{}
	for tries := 0; len(arr) < n && tries < 10*n+10; tries++ {
		var v any = ""
		if s.Items != nil && s.Items.Value != nil {
			v = g.draw(s.Items.Value, depth+1)
		}
		if s.UniqueItems {
			k := fmt.Sprint(v)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		arr = append(arr, v)
	}
	return arr
}

// alphabets of generated text: mostly ASCII, some punctuation, some
// letters outside ASCII (all in the Basic Multilingual Plane, where every
// language's idea of a string's length agrees).
var (
	alnum   = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	punct   = []rune(" .,-_'&()/:;!?@#+%")
	foreign = []rune("éèüöñßøçåÉÜждяΩλ中文日本語한")
)

func (g *generator) char() rune {
	switch p := g.rnd.Float64(); {
	case p < 0.75:
		return alnum[g.rnd.IntN(len(alnum))]
	case p < 0.93:
		return punct[g.rnd.IntN(len(punct))]
	default:
		return foreign[g.rnd.IntN(len(foreign))]
	}
}

// word is letters and digits only.
func (g *generator) word(lo, hi int) string {
	n := g.between(lo, hi)
	b := make([]rune, n)
	for i := range b {
		b[i] = alnum[g.rnd.IntN(len(alnum))]
	}
	return string(b)
}

// length draws a string length in [lo, hi], often short, sometimes at the
// upper bound, where off-by-one errors live.
func (g *generator) length(lo, hi int) int {
	switch p := g.rnd.Float64(); {
	case p < 0.1:
		return hi
	case p < 0.2:
		return lo
	case p < 0.85:
		return g.between(lo, min(hi, lo+24))
	default:
		return g.between(lo, hi)
	}
}

func (g *generator) drawString(s *openapi3.Schema) string {
	switch s.Format {
	case "email":
		return g.email()
	case "date-time":
		return fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:%02dZ", g.between(0, 99), g.between(1, 12), g.between(1, 28), g.between(0, 23), g.between(0, 59), g.between(0, 59))
	case "uri":
		return "https://example.com/" + g.word(1, 12)
	}
	lo := int(s.MinLength)
	hi := maxGenLength
	if s.MaxLength != nil {
		hi = min(hi, int(*s.MaxLength))
	}
	if hi < lo {
		hi = lo
	}
	if s.Pattern != "" && strings.HasPrefix(s.Pattern, "^") && strings.HasSuffix(s.Pattern, "$") {
		if re, err := syntax.Parse(s.Pattern, syntax.Perl); err == nil {
			defer func() { g.repeat = 0 }()
			for i := range 20 {
				g.repeat = 3 + i*i
				if v := g.fromRegexp(re.Simplify()); utf8.RuneCountInString(v) >= lo && utf8.RuneCountInString(v) <= hi {
					return v
				}
			}
		}
	}
	n := g.length(lo, hi)
	b := make([]rune, n)
	for i := range b {
		b[i] = g.char()
	}
	return string(b)
}

// email draws an address of the run's domain, unique for the run.
func (g *generator) email() string {
	g.emails++
	local := g.word(1, 12)
	if g.chance(0.3) {
		local += string("._+-"[g.rnd.IntN(4)]) + g.word(1, 8)
	}
	return fmt.Sprintf("%s.%d@%s", local, g.emails, g.domain)
}

// fromRegexp draws a string matching re (parsed and simplified).
func (g *generator) fromRegexp(re *syntax.Regexp) string {
	var b strings.Builder
	g.writeRegexp(&b, re)
	return b.String()
}

func (g *generator) writeRegexp(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(g.fromClass(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(alnum[g.rnd.IntN(len(alnum))])
	case syntax.OpCapture:
		g.writeRegexp(b, re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			g.writeRegexp(b, sub)
		}
	case syntax.OpAlternate:
		g.writeRegexp(b, re.Sub[g.rnd.IntN(len(re.Sub))])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		extra := max(g.repeat, 3)
		lo, hi := 0, extra
		switch re.Op {
		case syntax.OpPlus:
			lo, hi = 1, 1+extra
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + extra
			}
		}
		for range g.between(lo, hi) {
			g.writeRegexp(b, re.Sub[0])
		}
	}
}

// fromClass draws a rune of a character class, preferring printable ASCII.
func (g *generator) fromClass(ranges []rune) rune {
	var ascii []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := max(ranges[i], 0x21), min(ranges[i+1], 0x7E)
		for r := lo; r <= hi; r++ {
			ascii = append(ascii, r)
		}
	}
	if len(ascii) > 0 {
		return ascii[g.rnd.IntN(len(ascii))]
	}
	i := 2 * g.rnd.IntN(len(ranges)/2)
	return ranges[i] + rune(g.rnd.IntN(int(min(ranges[i+1]-ranges[i], 0xFF)+1)))
}

// mutation is an invalid variant of a valid value.
type mutation struct {
	kind  string // the category, to spread the draws over categories
	desc  string
	value any
}

// invalid returns variants of a valid value that the schema rejects: wrong
// types, missing required fields, unknown fields, values out of range, too
// long or short, breaking a pattern, a format or an enum, in a seeded order
// that takes one of each kind before a second of any.
func (g *generator) invalid(s *openapi3.Schema, base any, n int) []mutation {
	cands := g.mutations(s, base, "")
	g.rnd.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	var out []mutation
	used := map[string]int{}
	taken := make([]bool, len(cands))
	for round := 0; len(out) < n && round < 3; round++ {
		for i, c := range cands {
			if len(out) >= n {
				break
			}
			if taken[i] || used[c.kind] > round {
				continue
			}
			taken[i] = true
			v, err := roundTrip(c.value)
			if err != nil || validate(s, v) == nil {
				continue // not invalid after all: no use as a negative example
			}
			used[c.kind]++
			c.value = v
			out = append(out, c)
		}
	}
	return out
}

func (g *generator) mutations(s *openapi3.Schema, base any, at string) []mutation {
	var out []mutation
	name := at
	if name == "" {
		name = "the body"
	}
	add := func(kind, desc string, v any) { out = append(out, mutation{kind: kind, desc: desc, value: v}) }

	switch schemaType(s) {
	case "object":
		obj, _ := base.(map[string]any)
		add("type", name+" is an array, not an object", []any{obj})
		if at == "" {
			add("type", name+" is a string, not an object", "not an object")
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; ok {
				c := clone(obj)
				delete(c, r)
				add("missing", fmt.Sprintf("required field %s is missing", join(at, r)), c)
			}
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			c := clone(obj)
			c["unexpected_field"] = "surprise"
			add("unknown", fmt.Sprintf("%s has an unknown field unexpected_field", name), c)
			for _, ro := range []string{"id", "created_at", "slug"} {
				if _, declared := s.Properties[ro]; !declared {
					c := clone(obj)
					c[ro] = "2025-01-01T00:00:00Z"
					add("unknown", fmt.Sprintf("%s sets %s, which belongs to the server", name, ro), c)
				}
			}
		}
		if s.MinProps > 0 {
			add("range", name+" is an empty object, below minProperties", map[string]any{})
		}
		if s.MaxProps != nil {
			c := clone(obj)
			for i := 0; len(c) <= int(*s.MaxProps); i++ {
				c[fmt.Sprintf("k%d", i)] = "v"
			}
			add("range", fmt.Sprintf("%s has more than maxProperties %d entries", name, *s.MaxProps), c)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil && ap.Value != nil && len(s.Properties) == 0 {
			for _, m := range g.mutations(ap.Value, g.draw(ap.Value, 1), join(at, "key")) {
				if m.kind == "type" || m.kind == "range" {
					c := clone(obj)
					c["key"] = m.value
					add("nested", m.desc, c)
				}
			}
		}
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ps := s.Properties[k].Value
			if ps == nil || ps.ReadOnly {
				continue
			}
			cur, ok := obj[k]
			if !ok {
				cur = g.draw(ps, 1)
			}
			for _, m := range g.mutations(ps, cur, join(at, k)) {
				c := clone(obj)
				c[k] = m.value
				out = append(out, mutation{kind: m.kind, desc: m.desc, value: c})
			}
		}
	case "array":
		add("type", name+" is a string, not an array", "not an array")
		if s.MaxItems != nil && s.Items != nil && s.Items.Value != nil {
			var arr []any
			for i := 0; len(arr) <= int(*s.MaxItems); i++ {
				arr = append(arr, uniqueValue(s.Items.Value, i))
			}
			add("range", fmt.Sprintf("%s has more than maxItems %d items", name, *s.MaxItems), arr)
		}
		if s.UniqueItems && s.Items != nil && s.Items.Value != nil {
			v := uniqueValue(s.Items.Value, 0)
			add("range", name+" repeats an item although uniqueItems", []any{v, v})
		}
		if s.Items != nil && s.Items.Value != nil {
			for _, m := range g.mutations(s.Items.Value, g.draw(s.Items.Value, 1), at+"[0]") {
				if m.kind != "missing" && m.kind != "unknown" {
					add("nested", m.desc, []any{m.value})
				}
			}
		}
	case "integer", "number":
		add("type", name+" is a string, not a number", "twelve")
		if schemaType(s) == "integer" {
			add("type", name+" is a fraction, not an integer", 1.5)
		}
		if s.Min != nil {
			add("range", fmt.Sprintf("%s is below its minimum %v", name, *s.Min), *s.Min-1)
		}
		if s.Max != nil {
			add("range", fmt.Sprintf("%s is above its maximum %v", name, *s.Max), *s.Max+1)
		}
	case "boolean":
		add("type", name+" is a string, not a boolean", "yes")
	case "string":
		add("type", name+" is a number, not a string", 12345)
		add("type", name+" is null", nil)
		if len(s.Enum) > 0 {
			add("enum", name+" is not one of its enum values", "not_a_listed_value")
		}
		if s.MaxLength != nil {
			add("range", fmt.Sprintf("%s is longer than maxLength %d", name, *s.MaxLength), strings.Repeat("a", int(*s.MaxLength)+1))
		}
		if s.MinLength > 0 {
			add("range", fmt.Sprintf("%s is shorter than minLength %d", name, s.MinLength), "")
		}
		if s.Pattern != "" {
			if re, err := regexp.Compile(s.Pattern); err == nil {
				for _, v := range []string{"   ", "\t", "not matching!", "12345", "+0"} {
					if !re.MatchString(v) {
						add("pattern", fmt.Sprintf("%s %q does not match the pattern %s", name, v, s.Pattern), v)
						break
					}
				}
			}
		}
		if s.Format == "email" {
			for _, v := range []string{"no-at-sign.example.com", "two@@example.com", "@example.com", "spaces in@example.com"} {
				add("format", fmt.Sprintf("%s %q is not an email address", name, v), v)
			}
		}
	}
	return out
}

// uniqueValue is the i-th of distinct valid-looking values of a schema.
func uniqueValue(s *openapi3.Schema, i int) any {
	switch schemaType(s) {
	case "integer", "number":
		return i
	case "boolean":
		return i%2 == 0
	}
	return "item" + strconv.Itoa(i)
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

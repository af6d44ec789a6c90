package validation

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

// replacements are put in place of every member and item of valid
// documents: each kind of value, edge lengths, and good and bad formats.
var replacements = []any{
	nil, true, false, 0, 1, -1, 1.5, 100, 101, 1e300, "", " ", "x", "\tx\n", strings.Repeat("y", 200),
	strings.Repeat("y", 201), strings.Repeat("é", 200), strings.Repeat("😀", 201), "<b>&amp;</b>", "é\u2028",
	"not-an-email", "a@b.co", "jane.doe@example.com", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00Z",
	"https://api.axiom-console.com/docs/errors#not_found", "docs#x", "cnt_12345", "cnt_", "+11234567890",
	"lead", "client", "active", "unsubscribed", "invalid_parameter", "Template created successfully",
	"from-api-1612d101", []any{}, []any{"a"}, []any{"a", "a"}, []any{"a", "b"}, []any{1}, []any{nil},
	map[string]any{}, map[string]any{"k": "v"}, map[string]any{"k": 1},
}

// mutations returns doc with each member and item in turn removed or
// replaced, and an unknown member added to each object.
func mutations(doc any) []any {
	var out []any
	var walk func(v any, set func(any) any)
	walk = func(v any, set func(any) any) {
		switch v := v.(type) {
		case map[string]any:
			extra := maps.Clone(v)
			extra["zz_unknown"] = "x"
			out = append(out, set(extra))
			for _, k := range slices.Sorted(maps.Keys(v)) {
				without := maps.Clone(v)
				delete(without, k)
				out = append(out, set(without))
				setK := func(x any) any {
					c := maps.Clone(v)
					c[k] = x
					return set(c)
				}
				for _, r := range replacements {
					out = append(out, setK(r))
				}
				walk(v[k], setK)
			}
		case []any:
			for i := range v {
				without := slices.Delete(slices.Clone(v), i, i+1)
				out = append(out, set(without))
				setI := func(x any) any {
					c := slices.Clone(v)
					c[i] = x
					return set(c)
				}
				for _, r := range replacements {
					out = append(out, setI(r))
				}
				walk(v[i], setI)
			}
			out = append(out, set(append(slices.Clone(v), v...)))
		}
	}
	out = append(out, doc)
	walk(doc, func(x any) any { return x })
	return out
}

func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

// The compiled validator and kin-openapi agree on every mutation of a valid
// document of each response schema.
func TestFastMatchesKin(t *testing.T) {
	v, err := New(spec(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range v.byOp {
		for _, r := range o.all() {
			for ct, mt := range r.content {
				if mt.Schema != nil && v.fast[mt] == nil {
					t.Logf("%s: the response schema for %s is left to kin-openapi", o.id, ct)
				}
			}
		}
	}

	leads := sampleLeads(2)
	leads[1].Tags = []string{}
	leads[1].CustomFields = gen.CustomFields{}
	tmpl := gen.Template{Slug: "from-api-1612d101", Name: "From API", Subject: "Test <from> API", Content: "<p>html & content</p>", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	var created gen.TemplateCreated
	created.Data.Message = gen.TemplateCreatedDataMessageTemplateCreatedSuccessfully
	created.Data.Template = tmpl.Slug
	more := true
	docs := []struct {
		method, route string
		status        int
		value         any
	}{
		{"GET", "/v1/leads", 200, gen.LeadList{Data: leads, Length: 2, HasMore: &more}},
		{"GET", "/v1/leads/:id", 200, gen.LeadEnvelope{Data: leads[0]}},
		{"GET", "/v1/leads/:id", 404, envelope(axiom.Errorf(axiom.CodeNotFound, "No lead with id 'cnt_1'"))},
		{"GET", "/v1/templates", 200, gen.TemplateList{Data: []gen.Template{tmpl}, Length: 1}},
		{"GET", "/v1/templates/:slug", 200, gen.TemplateEnvelope{Data: tmpl}},
		{"POST", "/v1/templates/add", 201, created},
	}
	for _, d := range docs {
		mt := v.byRoute[routeKey{d.method, d.route}].documented(d.status).content.Get("application/json")
		fs, schema := v.fast[mt], mt.Schema.Value
		valid, invalid := 0, 0
		for _, m := range mutations(asJSONValue(t, d.value)) {
			body, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			fastErr := validateJSON(fs, body)
			var decoded any
			if err := json.Unmarshal(body, &decoded); err != nil {
				t.Fatal(err)
			}
			kinErr := schema.VisitJSON(decoded, v.bodyOpts...)
			if (fastErr == nil) != (kinErr == nil) {
				t.Errorf("%s %s %d: %s\ncompiled: %v\nkin-openapi: %v", d.method, d.route, d.status, body, fastErr, kinErr)
			}
			if kinErr == nil {
				valid++
			} else {
				invalid++
			}
		}
		if valid < 1 || invalid < 50 {
			t.Errorf("%s %s %d: %d valid and %d invalid mutations: the corpus is too thin", d.method, d.route, d.status, valid, invalid)
		}
	}
}

// JSON syntax is checked as encoding/json checks it.
func TestFastSyntax(t *testing.T) {
	for _, body := range []string{
		`{}`, ` {"a":[1,-0.5e+3,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",true,false,null,{}]} `, `[]`, `"s"`, `0`, `-0`, `1E9`,
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`, `{a:1}`, `{'a':1}`,
		`01`, `1.`, `.5`, `+1`, `1e`, `1e+`, `-`, `0x10`, `NaN`, `Infinity`, `1e400`, `tru`, `nul`, `True`, `"\x"`, `"\u12"`,
		`"\u12G4"`, "\"a\tb\"", "\"a\x00\"", `"unterminated`, `{} {}`, `[] x`, `{"a":1}}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		want := json.Valid([]byte(body))
		if body == `1e400` {
			want = false // valid syntax, but out of float64's range: encoding/json cannot decode it into any
		}
		got := validateJSON(nil, []byte(body)) == nil
		if got != want {
			t.Errorf("%.40q: valid %v, want %v", body, got, want)
		}
	}
}

// Integer formats bound the value as kin-openapi's int32 and int64 do;
// other formats of numbers are left to kin-openapi.
func TestFastIntegerFormats(t *testing.T) {
	integer := &openapi3.Types{openapi3.TypeInteger}
	for _, tc := range []struct {
		format, body string
	}{
		{"int32", "2147483647"}, {"int32", "2147483648"}, {"int32", "-2147483648"}, {"int32", "-2147483649"},
		{"int64", "9223372036854775807"}, {"int64", "1e19"}, {"int64", "-1e19"}, {"int64", "12"},
	} {
		s := &openapi3.Schema{Type: integer, Format: tc.format}
		fs, err := compileFast(s, nil, map[*openapi3.Schema]*fastSchema{})
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		kinErr := s.VisitJSON(v)
		if fastErr := validateJSON(fs, []byte(tc.body)); (fastErr == nil) != (kinErr == nil) {
			t.Errorf("%s %s: compiled %v, kin-openapi %v", tc.format, tc.body, fastErr, kinErr)
		}
	}
	if _, err := compileFast(&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}, Format: "double"}, nil, map[*openapi3.Schema]*fastSchema{}); err == nil {
		t.Error("a number of format double compiled")
	}
}

// A schema with keywords the compiler does not know is left to kin-openapi.
func TestFastUnsupported(t *testing.T) {
	str := &openapi3.Types{openapi3.TypeString}
	for i, s := range []*openapi3.Schema{
		{Type: str, OneOf: openapi3.SchemaRefs{{Value: &openapi3.Schema{Type: str}}}},
		{Type: &openapi3.Types{openapi3.TypeNumber}, MultipleOf: new(float64)},
		{},
		{Type: &openapi3.Types{openapi3.TypeString, openapi3.TypeNull}},
		{Type: &openapi3.Types{openapi3.TypeInteger}, Enum: []any{1, 2}},
		{Type: &openapi3.Types{openapi3.TypeArray}, UniqueItems: true, Items: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}}},
		{Type: &openapi3.Types{openapi3.TypeObject}, Required: []string{"missing"}},
	} {
		if _, err := compileFast(s, nil, map[*openapi3.Schema]*fastSchema{}); err == nil {
			t.Errorf("schema %d compiled", i)
		}
	}
}

func ExampleResponseError() {
	err := &ResponseError{Operation: "listLeads", Status: 200, Problem: "the header X-Ratelimit-Limit is missing"}
	fmt.Println(err)
	// Output: response 200 of listLeads does not conform to the API spec: the header X-Ratelimit-Limit is missing
}

package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
)

// ValidateRequest validates the request of op, whose body the pipeline has
// read into body, and returns nil or the *axiom.Error the client receives.
// It does nothing when the Validator skips requests.
func (v *Validator) ValidateRequest(c echo.Context, op *Operation, params map[string]string, body []byte) error {
	if v.skipRequests {
		return nil
	}
	return v.validateRequest(c.Request(), c.QueryParams(), op, params, body)
}

// ValidateHTTPRequest is ValidateRequest for a request outside Echo: a
// proxy's, whose body was read into body and put back.
func (v *Validator) ValidateHTTPRequest(r *http.Request, op *Operation, params map[string]string, body []byte) error {
	return v.validateRequest(r, r.URL.Query(), op, params, body)
}

func (v *Validator) validateRequest(r *http.Request, query url.Values, op *Operation, params map[string]string, body []byte) error {
	for _, name := range op.single {
		// kin-openapi would validate the first value, the handler refuse the lot.
		if len(query[name]) > 1 {
			return axiom.Errorf(axiom.CodeInvalidParameter, "The parameter '%s' must be given once", clip(name))
		}
	}
	if op.body != nil && len(body) > 0 {
		if err := checkBody(r, op.body, body); err != nil {
			return err
		}
	}
	input := &openapi3filter.RequestValidationInput{
		Request:     r,
		PathParams:  params,
		QueryParams: query,
		Route:       op.route,
		Options:     v.request,
	}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		return requestError(err)
	}
	return nil
}

// checkBody checks what kin-openapi does not or would report less clearly
// of a body: its media type, that it is valid UTF-8 and a single JSON value.
func checkBody(r *http.Request, body *openapi3.RequestBody, data []byte) error {
	ct := r.Header.Get(echo.HeaderContentType)
	mt := body.Content.Get(ct)
	if mt == nil {
		return axiom.Errorf(axiom.CodeUnsupportedMediaType, "The request body must be sent as %s", mediaTypes(body.Content))
	}
	if !utf8.Valid(data) {
		return axiom.Errorf(axiom.CodeInvalidParameter, "The request body is not valid UTF-8")
	}
	if isJSON(ct) && !json.Valid(data) {
		return axiom.Errorf(axiom.CodeInvalidParameter, "The request body is not valid JSON")
	}
	if isJSON(ct) && hasEscapedNUL(data) {
		// Not every database can store it (PostgreSQL refuses it in text).
		return axiom.Errorf(axiom.CodeInvalidParameter, "The request body holds the NUL character (\\u0000), which no text may contain")
	}
	return nil
}

// hasEscapedNUL reports whether valid JSON data holds a string with U+0000,
// which JSON can only write as the escape \u0000.
func hasEscapedNUL(data []byte) bool {
	for i := bytes.Index(data, []byte(`\u0000`)); i >= 0; {
		slashes := 0
		for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
			slashes++
		}
		if slashes%2 == 0 {
			return true
		}
		next := bytes.Index(data[i+1:], []byte(`\u0000`))
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// isJSON reports whether the media type ct is JSON.
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")
}

func mediaTypes(content openapi3.Content) string {
	types := make([]string, 0, len(content))
	for mt := range content {
		types = append(types, mt)
	}
	slices.Sort(types)
	return strings.Join(types, " or ")
}

// requestError turns an error of openapi3filter.ValidateRequest into the
// API error the client receives: never a 5xx, never the value sent back.
func requestError(err error) *axiom.Error {
	if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
		e := axiom.Errorf(axiom.CodePayloadTooLarge, "The request body is larger than %d bytes", tooLarge.Limit)
		e.Err = err
		return e
	}
	e := axiom.Errorf(axiom.CodeInvalidParameter, "The request is invalid")
	if re, ok := errors.AsType[*openapi3filter.RequestError](err); ok {
		switch {
		case re.Parameter != nil:
			e = parameterError(re)
		case re.RequestBody != nil:
			e = bodyError(re)
		}
	}
	e.Err = err
	return e
}

func parameterError(re *openapi3filter.RequestError) *axiom.Error {
	p := re.Parameter
	subject := "The parameter '" + clip(p.Name) + "'"
	if p.In == openapi3.ParameterInHeader {
		subject = "The header '" + clip(p.Name) + "'"
	}
	var schema *openapi3.Schema
	if p.Schema != nil {
		schema = p.Schema.Value
	}
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return axiom.Errorf(axiom.CodeInvalidParameter, "%s is required", subject)
	case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
		return axiom.Errorf(axiom.CodeInvalidParameter, "%s must not be empty", subject)
	}
	if _, ok := errors.AsType[*openapi3filter.ParseError](re.Err); ok {
		return axiom.Errorf(axiom.CodeInvalidParameter, "%s must be %s", subject, typeNoun(schema))
	}
	if se := firstSchemaError(re.Err); se != nil {
		return axiom.Errorf(axiom.CodeInvalidParameter, "%s %s", subject, predicate(se))
	}
	return axiom.Errorf(axiom.CodeInvalidParameter, "%s is invalid", subject)
}

func bodyError(re *openapi3filter.RequestError) *axiom.Error {
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return axiom.Errorf(axiom.CodeInvalidParameter, "The request body is required")
	case re.Err == nil && strings.Contains(re.Reason, "Content-Type"):
		return axiom.Errorf(axiom.CodeUnsupportedMediaType, "The request body must be sent as %s", mediaTypes(re.RequestBody.Content))
	}
	if se := firstSchemaError(re.Err); se != nil {
		var root *openapi3.Schema
		if mt := re.RequestBody.Content.Get(re.Input.Request.Header.Get(echo.HeaderContentType)); mt != nil && mt.Schema != nil {
			root = mt.Schema.Value
		}
		return axiom.Errorf(axiom.CodeInvalidParameter, "%s", schemaMessage(root, se, "The request body", "The body field"))
	}
	return axiom.Errorf(axiom.CodeInvalidParameter, "The request body is invalid")
}

// firstSchemaError finds the first *openapi3.SchemaError in err.
func firstSchemaError(err error) *openapi3.SchemaError {
	switch e := err.(type) {
	case nil:
		return nil
	case *openapi3.SchemaError:
		return e
	case openapi3.MultiError:
		for _, err := range e {
			if se := firstSchemaError(err); se != nil {
				return se
			}
		}
		return nil
	case interface{ Unwrap() error }:
		return firstSchemaError(e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, err := range e.Unwrap() {
			if se := firstSchemaError(err); se != nil {
				return se
			}
		}
	}
	return nil
}

// schemaMessage describes se, an error of a value validated against root:
// "<whole> <predicate>" when it is about the whole value, else
// "<field> '<a.b[0]>' <predicate>".
func schemaMessage(root *openapi3.Schema, se *openapi3.SchemaError, whole, field string) string {
	path := se.JSONPointer()
	if se.SchemaField == "properties" {
		if k, ok := unknownProperty(se); ok {
			path = append(path, k)
		}
	}
	if len(path) == 0 {
		if se.SchemaField == "minProperties" && se.Schema != nil && se.Schema.MinProps > 0 {
			return fmt.Sprintf("%s must set at least %d %s", whole, se.Schema.MinProps, plural(se.Schema.MinProps, "field", "fields"))
		}
		return whole + " " + predicate(se)
	}
	return field + " '" + fieldName(root, path) + "' " + predicate(se)
}

// unknownProperty finds the property kin-openapi refused as unsupported:
// the first, in sorted order as it visits them, that the schema lacks.
func unknownProperty(se *openapi3.SchemaError) (string, bool) {
	obj, ok := se.Value.(map[string]any)
	if !ok || se.Schema == nil {
		return "", false
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if _, known := se.Schema.Properties[k]; !known {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	return slices.Min(keys), true
}

// predicate says what is wrong, without the value.
func predicate(se *openapi3.SchemaError) string {
	s := se.Schema
	if s == nil {
		return "is invalid"
	}
	switch se.SchemaField {
	case "type":
		return "must be " + typeNoun(s)
	case "nullable":
		return "must not be null"
	case "enum":
		return "must be one of: " + enumList(s.Enum)
	case "required":
		return "is required"
	case "properties":
		return "is not allowed"
	case "minimum", "exclusiveMinimum":
		switch {
		case s.ExclusiveMin.Value != nil:
			return "must be greater than " + number(*s.ExclusiveMin.Value)
		case s.Min != nil && s.ExclusiveMin.IsTrue():
			return "must be greater than " + number(*s.Min)
		case s.Min != nil:
			return "must be at least " + number(*s.Min)
		}
	case "maximum", "exclusiveMaximum":
		switch {
		case s.ExclusiveMax.Value != nil:
			return "must be less than " + number(*s.ExclusiveMax.Value)
		case s.Max != nil && s.ExclusiveMax.IsTrue():
			return "must be less than " + number(*s.Max)
		case s.Max != nil:
			return "must be at most " + number(*s.Max)
		}
	case "multipleOf":
		if s.MultipleOf != nil {
			return "must be a multiple of " + number(*s.MultipleOf)
		}
	case "minLength":
		if s.MinLength == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", s.MinLength)
	case "maxLength":
		if s.MaxLength != nil {
			return fmt.Sprintf("must be at most %d characters long", *s.MaxLength)
		}
	case "pattern":
		return "is invalid: it must match the pattern " + s.Pattern
	case "format":
		return "is invalid: not " + formatNoun(s.Format)
	case "minItems":
		return fmt.Sprintf("must have at least %d %s", s.MinItems, plural(s.MinItems, "item", "items"))
	case "maxItems":
		if s.MaxItems != nil {
			return fmt.Sprintf("must have at most %d %s", *s.MaxItems, plural(*s.MaxItems, "item", "items"))
		}
	case "uniqueItems":
		return "must not hold the same item twice"
	case "minProperties":
		return fmt.Sprintf("must have at least %d %s", s.MinProps, plural(s.MinProps, "entry", "entries"))
	case "maxProperties":
		if s.MaxProps != nil {
			return fmt.Sprintf("must have at most %d %s", *s.MaxProps, plural(*s.MaxProps, "entry", "entries"))
		}
	}
	return "is invalid"
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// typeNoun names the JSON type schema wants: "an integer".
func typeNoun(schema *openapi3.Schema) string {
	if schema == nil || schema.Type == nil || len(*schema.Type) == 0 {
		return "valid"
	}
	nouns := make([]string, 0, len(*schema.Type))
	for _, t := range *schema.Type {
		switch t {
		case openapi3.TypeInteger:
			if schema.Min != nil && schema.Max != nil { // also what a value beyond its format (int32) is told
				nouns = append(nouns, "an integer from "+number(*schema.Min)+" to "+number(*schema.Max))
				continue
			}
			nouns = append(nouns, "an integer")
		case openapi3.TypeArray:
			nouns = append(nouns, "an array")
		case openapi3.TypeObject:
			nouns = append(nouns, "an object")
		case openapi3.TypeBoolean:
			nouns = append(nouns, "a boolean")
		case openapi3.TypeNull:
			nouns = append(nouns, "null")
		default:
			nouns = append(nouns, "a "+t)
		}
	}
	return strings.Join(nouns, " or ")
}

func enumList(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = clip(fmt.Sprint(v))
	}
	return strings.Join(parts, ", ")
}

// fieldName renders a JSON pointer within a value of schema root as
// "custom_fields.budget" or "tags[2]".
func fieldName(root *openapi3.Schema, path []string) string {
	var b strings.Builder
	s := root
	for i, seg := range path {
		if b.Len() > maxName {
			b.WriteString("…")
			break
		}
		if s != nil && s.Type.Includes(openapi3.TypeArray) {
			b.WriteString("[" + clip(seg) + "]")
			s = refValue(s.Items)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(clip(seg))
		if s != nil {
			if p := s.Properties[seg]; p != nil {
				s = p.Value
			} else {
				s = refValue(s.AdditionalProperties.Schema)
			}
		}
	}
	return b.String()
}

func refValue(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil {
		return nil
	}
	return ref.Value
}

const maxName = 64

// clip makes a name from the request safe to quote: at most maxName bytes,
// control and other invisible characters replaced.
func clip(s string) string {
	cut := len(s) > maxName
	if cut {
		s = s[:maxName]
		// Drop the bytes of a character cut in two.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < ' ' || r == 0x7F || r == '\'' {
			return '?'
		}
		return r
	}, s)
	if cut {
		s += "…"
	}
	return s
}

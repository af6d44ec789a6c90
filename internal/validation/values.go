package validation

import (
	"github.com/getkin/kin-openapi/openapi3"
)

// Failure is one way a value breaks its schema: where, and what is wrong,
// in the words the API's 400s use.
type Failure struct {
	// Path is the JSON pointer of the value at fault, as its segments; for
	// a property the schema does not allow, the property's own.
	Path []string
	// Message is what is wrong, without the value: "must be at most 200
	// characters long", "is required", "is not allowed".
	Message string
}

// ValidateValue checks a decoded JSON value (maps, slices, strings,
// float64s, bools, nil) against schema, with the string formats the server
// checks, and returns every failure.
func ValidateValue(schema *openapi3.Schema, value any) []Failure {
	err := schema.VisitJSON(value, openapi3.MultiErrors(), openapi3.WithStringFormatValidators(formatValidators()))
	var out []Failure
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case openapi3.MultiError:
			for _, x := range e {
				walk(x)
			}
		case *openapi3.SchemaError:
			// An error of anyOf, oneOf or allOf holds those of its branches.
			if inner, ok := e.Origin.(openapi3.MultiError); ok && len(inner) > 0 {
				walk(inner)
				return
			}
			path := e.JSONPointer()
			if e.SchemaField == "properties" {
				if k, ok := unknownProperty(e); ok {
					path = append(path, k)
				}
			}
			out = append(out, Failure{Path: path, Message: predicate(e)})
		default:
			out = append(out, Failure{Message: "is invalid: " + err.Error()})
		}
	}
	walk(err)
	return out
}

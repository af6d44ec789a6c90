// Package gen holds the code oapi-codegen generates from ../openapi.yaml:
// the models, the typed client, the Echo strict server interface and the
// embedded spec. It is regenerated, never edited: run `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config oapi-codegen.yaml ../openapi.yaml

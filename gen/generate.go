// Package gen holds the code oapi-codegen generates from ../openapi.yaml:
// the models and the typed client. It imports neither Echo nor kin-openapi;
// the server's interface is generated apart, in internal/genserver. It is
// regenerated, never edited: run `make generate`.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config oapi-codegen.yaml ../openapi.yaml
//go:generate go run ../internal/aliasgen -spec ../openapi.yaml -gen axiom.gen.go -client ../client -out ../client/models.gen.go

// Package genserver holds the Echo strict-server interface and the embedded
// spec that oapi-codegen generates from ../../openapi.yaml, over the models
// of package gen. It is regenerated, never edited: run `make generate`.
package genserver

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen --config oapi-codegen.yaml ../../openapi.yaml

//go:build tools

// Package axiom pins the versions of the tools the build runs (see go.mod),
// so that `go generate` uses the same generator on every machine.
package axiom

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)

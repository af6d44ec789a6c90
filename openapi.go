// Package axiom is the root of the Axiom API toolkit. It carries the API's
// contract, openapi.yaml, byte for byte; the code generated from it lives in
// package gen, the client in package client and the reference server in
// package server.
package axiom

import _ "embed"

// OpenAPI is openapi.yaml exactly as written, comments and order included.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AdminOpenAPI is admin.openapi.yaml exactly as written: the reference
// server's admin endpoint and the fixture format. Its schemas refer to
// openapi.yaml's by the relative path "openapi.yaml".
//
//go:embed admin.openapi.yaml
var AdminOpenAPI []byte

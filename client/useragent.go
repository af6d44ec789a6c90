package client

import (
	"runtime"

	"github.com/axiomkit/axiom/internal/buildinfo"
)

// DefaultUserAgent names the library, its version and the Go runtime, for
// example "axiom-go/v1.2.0 (go1.26.8; linux/amd64)". The version is the one
// the go command recorded in the binary, as `axiom version` reports it.
func DefaultUserAgent() string {
	return "axiom-go/" + buildinfo.Read().Version + " (" + runtime.Version() + "; " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

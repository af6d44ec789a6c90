package client

import (
	"runtime"
	"runtime/debug"
)

const modulePath = "github.com/axiomkit/axiom"

// DefaultUserAgent names the library, its version and the Go runtime, for
// example "axiom-go/v1.2.0 (go1.26.8; linux/amd64)".
func DefaultUserAgent() string {
	return "axiom-go/" + libraryVersion() + " (" + runtime.Version() + "; " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

// libraryVersion is the version of this module in the running binary, as
// the go command recorded it, so that it never drifts from a constant.
func libraryVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath {
		return versionOrDevel(bi.Main.Version)
	}
	for _, m := range bi.Deps {
		if m.Path == modulePath {
			if m.Replace != nil && m.Replace.Version != "" {
				return m.Replace.Version
			}
			return versionOrDevel(m.Version)
		}
	}
	return "devel"
}

func versionOrDevel(v string) string {
	if v == "" || v == "(devel)" {
		return "devel"
	}
	return v
}

// Package buildinfo says what a binary is: the version of this module it
// was built from, the commit and build time the go command recorded, and
// the API description it carries. `axiom version` and the client's
// User-Agent both read it, so that they never disagree.
package buildinfo

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/axiomkit/axiom"
)

// ModulePath is this module's path.
const ModulePath = "github.com/axiomkit/axiom"

// Info is what a binary knows of its own build.
type Info struct {
	// Version is the module's version ("v1.2.0", a pseudo-version for an
	// untagged commit), or "devel" for a build from a working tree.
	Version string
	// Commit and Time are the VCS revision and commit time of a build from
	// a checkout ("" otherwise); Modified is set when the tree had changes.
	Commit   string
	Time     string
	Modified bool
	// Spec is the version of openapi.yaml (info.version) built in.
	Spec string
	// Go is the toolchain that built the binary.
	Go string
}

// Read returns the running binary's Info.
func Read() Info {
	i := Info{Version: "devel", Spec: SpecVersion(), Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	i.Version = moduleVersion(bi)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// moduleVersion is this module's version in bi: the main module's when it
// is the program, the dependency's when a program imports it.
func moduleVersion(bi *debug.BuildInfo) string {
	if bi.Main.Path == ModulePath {
		return versionOrDevel(bi.Main.Version)
	}
	for _, m := range bi.Deps {
		if m.Path == ModulePath {
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

// specVersionRE finds info.version: the first indented version key after
// the top-level info key.
var specVersionRE = regexp.MustCompile(`(?m)^info:\n(?:[ \t]+.*\n|\n)*?[ \t]+version:[ \t]*['"]?([^'"\s]+)`)

// SpecVersion is the info.version of the embedded openapi.yaml.
func SpecVersion() string {
	if m := specVersionRE.FindSubmatch(axiom.OpenAPI); m != nil {
		return string(m[1])
	}
	return "unknown"
}

// String is the one-paragraph answer of `axiom version`.
func (i Info) String() string {
	s := "axiom " + i.Version
	if i.Commit != "" {
		commit := i.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if i.Modified {
			commit += "+modified"
		}
		s += " (commit " + commit
		if i.Time != "" {
			s += ", " + i.Time
		}
		s += ")"
	}
	return s + fmt.Sprintf("\nAPI description %s\n%s %s/%s\n", i.Spec, i.Go, runtime.GOOS, runtime.GOARCH)
}

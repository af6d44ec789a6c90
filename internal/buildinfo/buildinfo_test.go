package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestSpecVersion(t *testing.T) {
	if got := SpecVersion(); got != "1.0.0" {
		t.Errorf("SpecVersion() = %q, want the spec's info.version 1.0.0", got)
	}
}

func TestModuleVersion(t *testing.T) {
	for _, tt := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"the program itself, tagged", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v1.2.0"}}, "v1.2.0"},
		{"the program, from a working tree", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}}, "devel"},
		{"a dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{{Path: ModulePath, Version: "v1.3.1"}}}, "v1.3.1"},
		{"a replaced dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{{Path: ModulePath, Version: "v1.3.1", Replace: &debug.Module{Version: "v1.3.2"}}}}, "v1.3.2"},
		{"not linked", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"}}, "devel"},
	} {
		if got := moduleVersion(&tt.bi); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	s := Info{Version: "v1.2.0", Commit: "0123456789abcdef", Time: "2026-12-04T10:00:00Z", Modified: true,
		Spec: "1.0.0", Go: "go1.26.8"}.String()
	for _, want := range []string{"axiom v1.2.0", "commit 0123456789ab+modified", "2026-12-04T10:00:00Z", "API description 1.0.0", "go1.26.8"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q: lacks %q", s, want)
		}
	}
}

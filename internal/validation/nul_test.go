package validation

import "testing"

func TestHasEscapedNUL(t *testing.T) {
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`{"name":"a\u0000b"}`, true},
		{`{"name":"\u0000"}`, true},
		{`{"name":"a\\\u0000"}`, true},   // an escaped backslash, then NUL
		{`{"name":"a\\u0000"}`, false},   // a backslash, then the text u0000
		{`{"name":"a\\\\u0000"}`, false}, // two backslashes, then the text
		{`{"n":"\\u0000","m":"\u0000"}`, true},
		{`{"name":"\u00001"}`, true},
		{`{"name":"\u0001"}`, false},
		{`{"name":"plain"}`, false},
	} {
		if got := hasEscapedNUL([]byte(tc.json)); got != tc.want {
			t.Errorf("hasEscapedNUL(%s) = %v, want %v", tc.json, got, tc.want)
		}
	}
}

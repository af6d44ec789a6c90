package validation

import (
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		value  string
		ok     bool
	}{
		{"email", "jane.doe@example.com", true},
		{"email", "a@b", true},
		{"email", "o'brien+crm@mail.example.co.uk", true},
		{"email", "jörg@exämple.de", true},
		{"email", "jane.example.com", false},
		{"email", "@example.com", false},
		{"email", "jane@", false},
		{"email", "a@b@c.com", false},
		{"email", "jane doe@example.com", false},
		{"email", "jane.@example.com", false},
		{"email", ".jane@example.com", false},
		{"email", "ja..ne@example.com", false},
		{"email", "jane@example..com", false},
		{"email", "jane@-example.com", false},
		{"email", "jane@example.com.", false},
		{"email", "jane@exa_mple.com", false},
		{"email", `"jane"@example.com`, false},
		{"email", "Jane <jane@example.com>", false},
		{"email", strings.Repeat("a", 65) + "@example.com", false},
		{"email", "jane@" + strings.Repeat("a", 64) + ".com", false},

		{"date-time", "2025-04-01T08:15:30Z", true},
		{"date-time", "2025-04-01T08:15:30.123456789Z", true},
		{"date-time", "2025-04-01t08:15:30z", true},
		{"date-time", "2025-04-01T08:15:30+02:00", true},
		{"date-time", "2024-02-29T00:00:00-11:30", true},
		{"date-time", "2016-12-31T23:59:60Z", true},
		{"date-time", "2025-02-29T00:00:00Z", false},
		{"date-time", "2025-04-31T00:00:00Z", false},
		{"date-time", "2025-13-01T00:00:00Z", false},
		{"date-time", "2025-04-01T24:00:00Z", false},
		{"date-time", "2025-04-01T08:60:00Z", false},
		{"date-time", "2025-04-01T08:15:30", false},
		{"date-time", "2025-04-01 08:15:30Z", false},
		{"date-time", "2025-04-01T08:15:30.Z", false},
		{"date-time", "2025-04-01T08:15:30+0200", false},
		{"date-time", "2025-04-01T08:15:30+24:00", false},
		{"date-time", "2025-04-01", false},
		{"date-time", "", false},

		{"date", "2025-04-01", true},
		{"date", "2000-02-29", true},
		{"date", "1900-02-29", false},
		{"date", "2025-4-01", false},

		{"uri", "https://api.axiom-console.com/docs/errors#not_found", true},
		{"uri", "urn:isbn:0451450523", true},
		{"uri", "docs#not_found", false},
		{"uri", "/docs/errors", false},
		{"uri", "https://example.com/a b", false},
		{"uri", "https://example.com/\n", false},
		{"uri", "", false},
	}
	validators := formatValidators()
	for _, tt := range tests {
		err := validators[tt.format].Validate(tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%s %q: error %v, want ok %v", tt.format, tt.value, err, tt.ok)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"name", "name"},
		{"a\nb'c", "a?b?c"},
		{strings.Repeat("é", 40), strings.Repeat("é", 32) + "…"},
		{strings.Repeat("a", 63) + "é", strings.Repeat("a", 63) + "…"},
	} {
		if got := clip(tt.in); got != tt.want {
			t.Errorf("clip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

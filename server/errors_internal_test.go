package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

// However long what a message quotes, the envelope keeps to the spec's
// maxLength of a message, and cuts no character in two.
func TestEnvelopeMessageIsBounded(t *testing.T) {
	for _, msg := range []string{"short", strings.Repeat("a", 100_000), strings.Repeat("é", 50_000)} {
		w := httptest.NewRecorder()
		writeEnvelope(w, httptest.NewRequest(http.MethodGet, "/v1/leads", nil), axiom.Errorf(axiom.CodeInvalidParameter, "The field '%s' is not allowed", msg))
		var env gen.Error
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		got := env.Error.Message
		if n := utf8.RuneCountInString(got); n > 2000 || len(got) > maxMessage+len("…") || !utf8.ValidString(got) {
			t.Errorf("a message quoting %d bytes: %d bytes, %d characters", len(msg), len(got), n)
		}
		if len(msg) < 100 && !strings.Contains(got, msg) {
			t.Errorf("a short message was cut: %q", got)
		}
	}
}

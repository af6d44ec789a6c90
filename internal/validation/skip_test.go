package validation

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/internal/genserver"
)

// TestSkipRequests checks the load-run switch: requests pass unchecked,
// responses are still validated as the mode says.
func TestSkipRequests(t *testing.T) {
	tooLong := request{method: "GET", path: "/v1/leads?search=" + strings.Repeat("x", 201)}
	extra := raw{status: 200, ct: echo.MIMEApplicationJSON, body: `{"data":[],"length":0,"total":7}`}
	tests := []struct {
		name string
		skip bool
		mode Mode
		list *raw // nil: a valid page
		req  request
		want int
	}{
		{"requests validated", false, ResponseOff, nil, tooLong, 400},
		{"requests skipped", true, ResponseOff, nil, tooLong, 200},
		{"requests skipped, responses enforced", true, ResponseEnforce, &extra, request{method: "GET", path: "/v1/leads"}, 500},
		{"requests skipped, valid response", true, ResponseEnforce, nil, tooLong, 200},
		{"both off, invalid response passes", true, ResponseOff, &extra, request{method: "GET", path: "/v1/leads"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(spec(t), Options{Responses: tt.mode, SkipRequests: tt.skip})
			if err != nil {
				t.Fatal(err)
			}
			f := &fake{}
			if tt.list != nil {
				f.list = func() (genserver.ListLeadsResponseObject, error) { return *tt.list, nil }
			}
			srv := httptest.NewServer(newEcho(t, v, slog.New(&logRecorder{}), f))
			t.Cleanup(srv.Close)
			if got := send(t, srv.URL, tt.req); got.status != tt.want {
				t.Fatalf("status %d, want %d: %s", got.status, tt.want, got.body)
			}
		})
	}
}

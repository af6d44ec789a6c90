package validation

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// The fallback router is built on first use; a document it refuses fails
// the requests that need it, never lets them through unvalidated.
func TestFallbackRouterThatCannotBeBuilt(t *testing.T) {
	broken := strings.Replace(writeOnlyDoc, "name: {type: string}", "name: {type: strang}", 1)
	doc, err := openapi3.NewLoader().LoadFromData([]byte(strings.ReplaceAll(broken, "RESPONSE_ITEM", "Plain")))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = renderError
	called := false
	e.Any("/v1/*", func(c echo.Context) error {
		called = true
		return c.NoContent(http.StatusNoContent)
	}, validating(v, slog.New(&logRecorder{})))
	srv := httptest.NewServer(e)
	defer srv.Close()
	if r := send(t, srv.URL, request{method: "POST", path: "/v1/things"}); r.status != 500 || called {
		t.Errorf("status %d, handler called %v; want 500, not called", r.status, called)
	}
}

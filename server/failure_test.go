package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/validation"
	"github.com/axiomkit/axiom/server/servertest"
)

// A response that breaks the spec never leaves the server in enforce mode.
func TestResponseValidationModes(t *testing.T) {
	for _, tc := range []struct {
		mode   validation.Mode
		status int
	}{
		{validation.ResponseEnforce, http.StatusInternalServerError},
		{validation.ResponseLog, http.StatusOK},
		{validation.ResponseOff, http.StatusOK},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			var logs bytes.Buffer
			srv := newServer(t, servertest.WithResponseValidation(tc.mode),
				servertest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			// Stored behind the API's back: an email the spec forbids.
			l := axiom.NewLead(srv.AccountID, axiom.Lead{Name: "Broken", Email: "not-an-email"}, time.Now())
			if err := srv.Store.CreateLead(context.Background(), l); err != nil {
				t.Fatal(err)
			}
			resp, body := call(t, "GET", srv.URL+"/leads/"+l.ID, srv.Key, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 500 {
				e := wantError(t, resp, body, 500, gen.ErrorCodeInternalError)
				if strings.Contains(e.Message, "not-an-email") {
					t.Fatalf("the violation leaked to the client: %q", e.Message)
				}
			}
			if logged := strings.Contains(logs.String(), "email"); logged != (tc.mode != validation.ResponseOff) {
				t.Fatalf("violation logged=%v in mode %s:\n%s", logged, tc.mode, logs.String())
			}
		})
	}
}

// panicking is a store whose lead listing panics.
type panicking struct{ servertest.Store }

func (panicking) ListLeads(context.Context, string, axiom.Query) (axiom.Page[axiom.Lead], error) {
	panic("boom")
}

func TestPanicIsA500Envelope(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, servertest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		servertest.WithStoreWrapper(func(s servertest.Store) servertest.Store { return panicking{s} }))
	resp, body := call(t, "GET", srv.URL+"/leads", srv.Key, "", nil)
	wantError(t, resp, body, http.StatusInternalServerError, gen.ErrorCodeInternalError)
	if strings.Contains(string(body), "boom") || strings.Contains(string(body), "goroutine") {
		t.Fatalf("panic details reached the client: %s", body)
	}
	wantRateHeaders(t, resp.Header)
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("panic not logged with its stack:\n%s", logs.String())
	}
	// The server keeps serving.
	if resp, _ := call(t, "GET", srv.URL+"/templates", srv.Key, "", nil); resp.StatusCode != 200 {
		t.Fatalf("after a panic: %d", resp.StatusCode)
	}
}

// Keys never reach the logs.
func TestKeysAreNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, servertest.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	call(t, "GET", srv.URL+"/leads", srv.Key, "", nil)
	call(t, "GET", srv.URL+"/leads", "axm_wrongwrongwrong", "", nil)
	call(t, "POST", srv.URL+"/leads/add", srv.Key, "application/json", strings.NewReader(`{"name":`))
	if logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	for _, secret := range []string{srv.Key, "axm_wrongwrongwrong"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a key was logged:\n%s", logs.String())
		}
	}
}

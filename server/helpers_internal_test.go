package server

import (
	"testing"

	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/store/sqlite"
)

// newTestServer builds a Server over db with cfg's other settings.
func newTestServer(t testing.TB, db *sqlite.DB, cfg Config) *Server {
	t.Helper()
	camps, err := campaign.NewService(campaign.Config{Store: db, PublicURL: "http://localhost/v1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Leads, cfg.Templates, cfg.Properties, cfg.Analytics, cfg.Keys, cfg.Idempotency, cfg.Campaigns, cfg.Ready = db, db, db, db, db, db, camps, db
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

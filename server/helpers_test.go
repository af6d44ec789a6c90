package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/store/sqlite"
	"github.com/axiomkit/axiom/server"
)

// newHandler builds a server over db, with cfg's other settings.
func newHandler(tb testing.TB, db *sqlite.DB, cfg server.Config) *server.Server {
	tb.Helper()
	camps, err := campaign.NewService(campaign.Config{Store: db, PublicURL: "http://localhost/v1"})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Leads, cfg.Templates, cfg.Properties, cfg.Analytics, cfg.Keys, cfg.Idempotency, cfg.Campaigns, cfg.Ready = db, db, db, db, db, db, camps, db
	h, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// newAccount creates an account on plan in db and returns it with a key.
func newAccount(tb testing.TB, db *sqlite.DB, plan axiom.Plan) (axiom.Account, string) {
	tb.Helper()
	ctx := context.Background()
	acc := axiom.NewAccount(plan, time.Now())
	if err := db.CreateAccount(ctx, acc); err != nil {
		tb.Fatal(err)
	}
	k, secret := axiom.NewKey(acc.ID, "test", false, time.Now())
	if err := db.CreateKey(ctx, k); err != nil {
		tb.Fatal(err)
	}
	return acc, secret
}

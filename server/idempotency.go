package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
)

// IdempotencyStore keeps the claims on Idempotency-Keys and their answers,
// atomically across every server sharing the database.
type IdempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord, ttl, stale time.Duration) (axiom.IdempotencyRecord, bool, error)
	CompleteIdempotencyKey(ctx context.Context, r axiom.IdempotencyRecord) error
	ReleaseIdempotencyKey(ctx context.Context, accountID, key, token string) error
}

// Defaults of Config's idempotency settings.
const (
	// DefaultIdempotencyWait is how long a retry waits for the first request
	// with its key before it is answered 409.
	DefaultIdempotencyWait = 10 * time.Second
	// DefaultIdempotencyStale is how long an unanswered claim is honoured:
	// past it, its holder is taken to have died and a retry runs instead.
	DefaultIdempotencyStale = 2 * time.Minute
)

// idempotency replays the first response to a POST carrying an
// Idempotency-Key to every retry with the same key and body. The key is
// claimed in the database before the request runs, so that of concurrent
// retries, on any server, one runs and the others wait for its answer.
type idempotency struct {
	store       IdempotencyStore
	log         *slog.Logger
	wait, stale time.Duration
	now         func() time.Time
}

// middleware is the pipeline's idempotency stage. It runs before request
// validation, so that a key reused with another body is told so whatever
// that body holds.
func (i *idempotency) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" || len(key) > 255 {
			return next(c) // an over-long key is the validator's to refuse
		}
		x := exchangeOf(c)
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		h.Write(x.input)
		claim := axiom.IdempotencyRecord{
			AccountID: accountID(r.Context()), Key: key, RequestHash: h.Sum(nil),
			CreatedAt: axiom.StoreTime(i.now()), Token: rand.Text(),
		}
		ctx := r.Context()
		deadline := i.now().Add(i.wait)
		for pause := 20 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
			held, mine, err := i.store.ClaimIdempotencyKey(ctx, claim, axiom.IdempotencyTTL, i.stale)
			switch {
			case err != nil:
				return err
			case mine:
				x.claim = &claim
				return next(c)
			case !bytes.Equal(held.RequestHash, claim.RequestHash):
				return axiom.Errorf(axiom.CodeIdempotencyKeyReused,
					"The Idempotency-Key '%s' was already used with a different request", truncate(key, 64))
			case held.Done():
				c.Response().Header().Set("Idempotent-Replayed", "true")
				return c.Blob(held.Status, held.ContentType, held.Body)
			case !i.now().Add(pause).Before(deadline):
				c.Response().Header().Set("Retry-After", "1")
				return axiom.Errorf(axiom.CodeIdempotencyKeyInUse,
					"A request with the Idempotency-Key '%s' is still running; retry after 1 second", truncate(key, 64))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
	}
}

// settle stores the answer of the request that holds its key, or, for a
// failure (5xx), gives the key up so that a retry runs again.
func (i *idempotency) settle(c echo.Context, x *exchange) {
	// The answer is settled even if the client has gone.
	ctx := context.WithoutCancel(c.Request().Context())
	claim := *x.claim
	status := x.status
	if status == 0 {
		status = http.StatusOK
	}
	var err error
	if status >= 500 {
		err = i.store.ReleaseIdempotencyKey(ctx, claim.AccountID, claim.Key, claim.Token)
	} else {
		claim.Status = status
		claim.ContentType = x.w.Header().Get(echo.HeaderContentType)
		claim.Body = bytes.Clone(x.body.Bytes())
		err = i.store.CompleteIdempotencyKey(ctx, claim)
	}
	if err != nil {
		i.log.LogAttrs(ctx, slog.LevelWarn, "settling an Idempotency-Key",
			slog.String("request_id", requestID(c)), slog.Any("error", err))
	}
}

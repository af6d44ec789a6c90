package server

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/store"
)

// idempotencyTTL is how long a first response is replayed, as the spec says.
const idempotencyTTL = 24 * time.Hour

// idempotency replays the first response to a POST carrying an
// Idempotency-Key to every retry with the same key and body.
type idempotency struct {
	store store.IdempotencyStore
	log   *slog.Logger
	mu    sync.Mutex
	busy  map[string]*keyLock // one request per account and key at a time
}

type keyLock struct {
	sync.Mutex
	waiters int
}

func newIdempotency(s store.IdempotencyStore, log *slog.Logger) *idempotency {
	return &idempotency{store: s, log: log, busy: map[string]*keyLock{}}
}

func (i *idempotency) lock(k string) func() {
	i.mu.Lock()
	l := i.busy[k]
	if l == nil {
		l = &keyLock{}
		i.busy[k] = l
	}
	l.waiters++
	i.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		i.mu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(i.busy, k)
		}
		i.mu.Unlock()
	}
}

// middleware runs before request validation, so the body the validator
// hands to the handler stays the validated one.
func (i *idempotency) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" || len(key) > 255 {
			return next(c) // an over-long key is the validator's to refuse
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				return err // 413
			}
			// A truncated or malformed (chunked) body is the client's fault.
			e := apierror.InvalidParameter("The request body could not be read")
			e.Err = err
			return e
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		h.Write(body)
		sum := h.Sum(nil)

		account := accountID(r.Context())
		defer i.lock(account + "\x00" + key)()
		ctx := r.Context()
		prev, err := i.store.GetIdempotent(ctx, account, key, idempotencyTTL)
		switch {
		case err == nil:
			if !bytes.Equal(prev.RequestHash, sum) {
				return apierror.IdempotencyKeyReused("The Idempotency-Key '%s' was already used with a different request", truncate(key, 64))
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(prev.Status, prev.ContentType, prev.Body)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			c.Error(err)
		}
		c.Response().Writer = rec.ResponseWriter
		status := c.Response().Status
		if status >= 500 {
			return nil // a failure is not remembered: the retry runs again
		}
		err = i.store.SaveIdempotent(ctx, store.IdempotentResponse{
			AccountID: account, Key: key, RequestHash: sum, Status: status,
			ContentType: c.Response().Header().Get(echo.HeaderContentType), Body: rec.body.Bytes(),
		})
		if err != nil {
			i.log.LogAttrs(ctx, slog.LevelWarn, "saving idempotent response", slog.Any("error", err))
		}
		return nil
	}
}

// recorder keeps a copy of the body written through it.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

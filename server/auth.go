package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/axiomkit/axiom"
)

// KeyStore finds API keys by the hash of their secret.
type KeyStore interface {
	KeyByHash(ctx context.Context, hash []byte) (axiom.Key, axiom.Account, error)
}

// The two headers that carry a key: the page's prose names the first, its
// code examples send the second.
var keyHeaders = [...]string{"X-API-Key", "X-Axiom-API-Key"}

type principalKey struct{}

func principalFrom(ctx context.Context) (axiom.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(axiom.Principal)
	return p, ok
}

// accountID is the calling account; authenticate guarantees it.
func accountID(ctx context.Context) string {
	p, _ := principalFrom(ctx)
	return p.Account.ID
}

// authenticate admits a request carrying a valid, unrevoked key in either
// header, and records its principal in the request's context.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret := ""
		for _, h := range keyHeaders {
			if secret = c.Request().Header.Get(h); secret != "" {
				break
			}
		}
		if secret == "" {
			return axiom.Errorf(axiom.CodeUnauthorized, "An API key is required in the X-API-Key or X-Axiom-API-Key header")
		}
		hash := axiom.HashSecret(secret)
		p, ok := s.keyCache.get(hash)
		if !ok {
			key, account, err := s.keys.KeyByHash(c.Request().Context(), hash)
			switch {
			case errors.Is(err, axiom.ErrNotFound):
				return axiom.Errorf(axiom.CodeUnauthorized, "The API key is not valid")
			case err != nil:
				return err
			case subtle.ConstantTimeCompare(key.Hash, hash) != 1:
				return axiom.Errorf(axiom.CodeUnauthorized, "The API key is not valid")
			case key.RevokedAt != nil:
				return axiom.Errorf(axiom.CodeUnauthorized, "The API key has been revoked")
			}
			p = axiom.Principal{Key: key, Account: account}
			s.keyCache.put(hash, p)
		}
		ctx := context.WithValue(c.Request().Context(), principalKey{}, p)
		c.SetRequest(c.Request().WithContext(ctx))
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// authorize refuses writes to read-only keys. It runs after rate limiting,
// so that a 403 carries the rate-limit headers like every other answer.
func authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := principalFrom(c.Request().Context())
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if p.Key.ReadOnly {
				return axiom.Errorf(axiom.CodeForbidden, "This API key is read-only")
			}
		}
		return next(c)
	}
}

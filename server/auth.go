package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

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
// header, and records its principal in the request's context. A request it
// refuses counts against its client address's bucket: past it, the answer
// is 429 rather than 401, and both carry that bucket's rate-limit headers.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, refused := s.principal(c)
		if refused != nil {
			return s.refuse(c, refused)
		}
		ctx := context.WithValue(c.Request().Context(), principalKey{}, p)
		c.SetRequest(c.Request().WithContext(ctx))
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// principal is the caller the request's key names, or why there is none.
func (s *Server) principal(c echo.Context) (axiom.Principal, *axiom.Error) {
	secret := ""
	for _, h := range keyHeaders {
		v := c.Request().Header.Get(h)
		if v != "" && secret != "" && v != secret {
			// Which one the caller meant is unknown: neither is used.
			return axiom.Principal{}, axiom.Errorf(axiom.CodeInvalidParameter,
				"X-API-Key and X-Axiom-API-Key carry different keys; send one key, in one of them")
		}
		if secret == "" {
			secret = v
		}
	}
	if secret == "" {
		return axiom.Principal{}, axiom.Errorf(axiom.CodeUnauthorized, "An API key is required in the X-API-Key or X-Axiom-API-Key header")
	}
	hash := axiom.HashSecret(secret)
	if p, refused, ok := s.keyCache.get(hash); ok {
		return p, refused
	}
	key, account, err := s.keys.KeyByHash(c.Request().Context(), hash)
	var refused *axiom.Error
	switch {
	case errors.Is(err, axiom.ErrNotFound), err == nil && subtle.ConstantTimeCompare(key.Hash, hash) != 1:
		refused = axiom.Errorf(axiom.CodeUnauthorized, "The API key is not valid")
	case err != nil:
		return axiom.Principal{}, axiom.Internal(err)
	case key.RevokedAt != nil:
		refused = axiom.Errorf(axiom.CodeUnauthorized, "The API key has been revoked")
	}
	p := axiom.Principal{Key: key, Account: account}
	s.keyCache.put(hash, p, refused)
	return p, refused
}

// refuse answers a request without a valid key: 401 (400 for two
// different keys), or 429 once its
// client address has been refused more often than its bucket allows.
func (s *Server) refuse(c echo.Context, why *axiom.Error) error {
	if why.Code != axiom.CodeUnauthorized && why.Code != axiom.CodeInvalidParameter {
		return why
	}
	ctx := c.Request().Context()
	res, err := s.limit.Allow(ctx, "addr:"+c.RealIP(), s.anonymous)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "rate limiter failed", slog.String("request_id", requestID(c)), slog.Any("error", err))
		return axiom.Internal(err)
	}
	exchangeOf(c).rate = &res
	if !res.Allowed {
		return axiom.Errorf(axiom.CodeRateLimitExceeded,
			"Too many requests without a valid API key from this address; retry after %s", seconds(res.RetryAfterSeconds()))
	}
	return why
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

// clientAddress is how the server tells a request's client address: the
// connection's, or, from a trusted proxy, the last address in its
// X-Forwarded-For that is not itself a trusted proxy.
func clientAddress(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// RetryPolicy says which failed requests are sent again, and when.
//
// A request is retried after a 429 (waiting Retry-After), a 409 telling
// that the first request with its Idempotency-Key is still running (waiting
// Retry-After), a 5xx other than 501 and a network error. GET, PUT and DELETE are retried freely; POST and
// PATCH only when they carry an Idempotency-Key (the client adds one to
// every POST, the same on every attempt) or provably never reached the
// server: no connection was made, or the answer was a 429, which the API
// gives before doing anything with the request.
type RetryPolicy struct {
	// MaxRetries is how many times a request may be sent again after its
	// first attempt; 0 disables retries.
	MaxRetries int
	// BaseDelay is the backoff ceiling before the first retry; it doubles
	// with each retry. The wait is drawn uniformly between zero and the
	// ceiling ("full jitter").
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for. A
	// response asking for longer is returned at once: its *Error carries
	// RetryAfter for the caller to decide.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is at most 2 retries, backoff from 500ms to 8s, and
// Retry-After honoured up to a minute.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 2, BaseDelay: 500 * time.Millisecond, MaxDelay: 8 * time.Second, MaxRetryAfter: time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.BaseDelay == 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = max(d.MaxDelay, p.BaseDelay)
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// backoff is the full-jitter wait before retry number attempt+1.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.BaseDelay
	for i := 0; i < attempt && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// sleepContext waits d, or less if ctx ends first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// replayable reports whether sending req twice is harmless.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// retryableStatus reports whether a response with status is worth another
// attempt, and whether that holds even for a request that is not
// replayable (the API answers 429 before acting on a request).
func retryableStatus(status int) (retry, evenIfNotReplayable bool) {
	switch {
	case status == http.StatusTooManyRequests:
		return true, true
	case status == http.StatusConflict:
		// idempotency_key_in_use: only a keyed request gets it, and its retry
		// receives the first request's answer.
		return true, false
	case status >= 500 && status != http.StatusNotImplemented:
		return true, false
	}
	return false, false
}

// retryableError reports whether a transport error may go away on its own.
func retryableError(err error) bool {
	if errors.Is(err, ErrInsecureTransport) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// *url.Error is a net.Error itself; judge what it wraps.
		err = ue.Err
	}
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		dnsErr      *net.DNSError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr):
		return false // a TLS misconfiguration will not fix itself
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// dialFailed reports whether err is a failure to open a connection (name
// resolution included), which proves the request was never sent.
func dialFailed(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

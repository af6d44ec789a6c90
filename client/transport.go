package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"
)

// authTransport adds the key to each request, redirects included, that
// goes to the API's host, and refuses to send it there over plain HTTP.
// Other hosts a redirect points to never see it.
type authTransport struct {
	base          http.RoundTripper
	header        string
	key           string
	host          string // lower case
	allowInsecure bool
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if host != t.host {
		if req.Header.Get(t.header) == "" {
			return t.base.RoundTrip(req)
		}
		r := req.Clone(req.Context())
		r.Header.Del(t.header)
		return t.base.RoundTrip(r)
	}
	if req.URL.Scheme != "https" && !t.allowInsecure && !isLoopback(host) {
		if req.Body != nil {
			req.Body.Close() // RoundTrip closes the body, even on error
		}
		return nil, fmt.Errorf("%w: %s://%s", ErrInsecureTransport, req.URL.Scheme, req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.Header.Set(t.header, t.key)
	return t.base.RoundTrip(r)
}

// doer is the gen.HttpRequestDoer under the generated client: every call,
// wrapped or raw, goes through its rate limiting, retries and validation.
type doer struct {
	http        *http.Client
	policy      RetryPolicy
	limiter     *pacer
	logger      *slog.Logger
	userAgent   string
	autoIdemKey bool
	validator   ResponseValidator
	basePath    string // escaped, cut before validation
	key         string
	sleep       func(context.Context, time.Duration) error
	newKey      func() string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	req = req.Clone(ctx) // the caller's request stays as it was
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", d.userAgent)
	}
	if req.Method == http.MethodPost && d.autoIdemKey && req.Header.Get("Idempotency-Key") == "" {
		// One key for all attempts: the server replays the first answer.
		req.Header.Set("Idempotency-Key", d.newKey())
	}
	if err := rewindable(req); err != nil {
		return nil, err
	}
	canReplay := replayable(req)

	for attempt := 0; ; attempt++ {
		if err := d.limiter.wait(ctx); err != nil {
			return nil, err
		}
		areq := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("axiom: rewinding the request body: %w", err)
			}
			areq.Body = body
		}
		var connected atomic.Bool
		areq = areq.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
		}))

		resp, err := d.http.Do(areq)
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		if resp != nil {
			d.limiter.sync(resp.Header, time.Now())
		}

		wait, reason, again := d.retry(attempt, canReplay, connected.Load(), resp, err)
		if again {
			// A wait the deadline cuts short would only trade the server's
			// answer for context.DeadlineExceeded.
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
				again = false
			}
		}
		if !again {
			if err != nil {
				return nil, err
			}
			return d.finish(ctx, req, resp)
		}
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("attempt", attempt+1),
			slog.String("reason", reason),
			slog.Duration("wait", wait),
		}
		if resp != nil {
			if id := resp.Header.Get("X-Request-Id"); id != "" {
				attrs = append(attrs, slog.String("request_id", id))
			}
			// Drain a little so that the connection can be reused.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		d.logger.LogAttrs(ctx, slog.LevelDebug, "axiom: retrying request", attrs...)
		if err := d.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retry decides whether to send the request again after attempt (0 for
// the first), how long to wait first, and why.
func (d *doer) retry(attempt int, canReplay, connected bool, resp *http.Response, err error) (time.Duration, string, bool) {
	if attempt >= d.policy.MaxRetries {
		return 0, "", false
	}
	if err != nil {
		// A request that failed to connect, on every hop, never reached
		// the server: even a POST without a key can be sent again.
		neverSent := !connected && dialFailed(err)
		if !retryableError(err) || (!canReplay && !neverSent) {
			return 0, "", false
		}
		return d.policy.backoff(attempt), "network error: " + redact(err.Error(), d.key), true
	}
	retry, evenIfNotReplayable := retryableStatus(resp.StatusCode)
	if !retry || (!canReplay && !evenIfNotReplayable) {
		return 0, "", false
	}
	reason := resp.Status
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		if ra > d.policy.MaxRetryAfter {
			return 0, "", false
		}
		return ra, reason + " (Retry-After)", true
	}
	return d.policy.backoff(attempt), reason, true
}

// finish validates the final response when asked to; the body is read and
// put back so that the generated layer can parse it.
func (d *doer) finish(ctx context.Context, req *http.Request, resp *http.Response) (*http.Response, error) {
	if d.validator == nil {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("axiom: reading the response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if verr := d.validate(ctx, req, resp, body); verr != nil {
		ve := &ValidationError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, Err: verr}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			ve.apiErr = newError(resp, body, d.key, time.Now())
		}
		return nil, ve
	}
	return resp, nil
}

// validate hands the response to the validator with the request's path cut
// to the operation's, as the description's paths are written.
func (d *doer) validate(ctx context.Context, req *http.Request, resp *http.Response, body []byte) error {
	// Segments are matched as sent, escaped: an email's "/" (%2F) stays
	// inside its segment.
	path, ok := strings.CutPrefix(req.URL.EscapedPath(), d.basePath)
	if !ok {
		return fmt.Errorf("path %s is outside the base path %s", req.URL.Path, d.basePath)
	}
	r := req.Clone(ctx)
	r.URL.Path, r.URL.RawPath = path, ""
	return d.validator.ValidateResponse(ctx, r, resp.StatusCode, resp.Header, body)
}

// rewindable makes sure every attempt can send the body again.
func rewindable(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("axiom: reading the request body: %w", err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Body, _ = req.GetBody()
	req.ContentLength = int64(len(body))
	return nil
}

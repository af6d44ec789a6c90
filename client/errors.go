package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
)

// Sentinel errors, matched with errors.Is against the *Error of a call.
// Each matches the API's error code of the same name or, when the body is
// not the API's error envelope (a proxy's page), the status that code has.
var (
	ErrInvalidParameter     = errors.New("axiom: invalid parameter")      // 400 invalid_parameter
	ErrUnauthorized         = errors.New("axiom: unauthorized")           // 401 unauthorized
	ErrForbidden            = errors.New("axiom: forbidden")              // 403 forbidden
	ErrNotFound             = errors.New("axiom: not found")              // 404 not_found
	ErrDuplicateEntry       = errors.New("axiom: duplicate entry")        // 422 duplicate_entry
	ErrIdempotencyKeyReused = errors.New("axiom: idempotency key reused") // 422 idempotency_key_reused
	ErrIdempotencyKeyInUse  = errors.New("axiom: idempotency key in use") // 409 idempotency_key_in_use
	ErrTemplateNotFound     = errors.New("axiom: template not found")     // 422 template_not_found
	ErrPropertyNotFound     = errors.New("axiom: property not found")     // 422 property_not_found
	ErrInvalidState         = errors.New("axiom: invalid state")          // 422 invalid_state
	ErrRateLimited          = errors.New("axiom: rate limited")           // 429 rate_limit_exceeded
	ErrServiceUnavailable   = errors.New("axiom: service unavailable")    // 503 service_unavailable
)

// Errors the client itself produces.
var (
	// ErrInsecureTransport refuses to send the key over plain HTTP to a host
	// other than loopback (see WithInsecureHTTP).
	ErrInsecureTransport = errors.New("axiom: refusing to send the API key over plain HTTP to a non-loopback host")
	// ErrPaginationStalled ends an All iteration whose next page repeats
	// the previous one, as a server ignoring the page parameter would.
	ErrPaginationStalled = errors.New("axiom: pagination stalled")
)

// maxErrorBody bounds the part of an error body kept in an *Error.
const maxErrorBody = 4 << 10

// Error is an error answer of the API: a status outside 2xx.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the API's machine-readable code; empty when the body was not
	// the API's error envelope. It may be a code this version does not know.
	Code axiom.ErrorCode
	// Message is the API's message, or a summary of a body that was not
	// the envelope (an HTML page's title, a line of text, the status text).
	Message string
	// DocumentationURL explains Code.
	DocumentationURL string
	// RequestID is the X-Request-Id of the response, to quote to support.
	RequestID string
	// RateLimit is the rate-limit state the response reported.
	RateLimit RateLimit
	// RetryAfter is how long the server asked to wait (429, some 503s).
	RetryAfter time.Duration
	// Method and Path are those of the request, without host or query.
	Method, Path string
	// Body is the start of a body that was not the envelope, for debugging.
	Body []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("axiom: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		fmt.Fprintf(&b, " %s", t)
	}
	if t := http.StatusText(e.StatusCode); e.Message != "" && e.Message != t && e.Message != fmt.Sprintf("%d %s", e.StatusCode, t) {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// sentinelCodes is the code each sentinel error matches.
var sentinelCodes = map[error]axiom.ErrorCode{
	ErrInvalidParameter:     axiom.CodeInvalidParameter,
	ErrUnauthorized:         axiom.CodeUnauthorized,
	ErrForbidden:            axiom.CodeForbidden,
	ErrNotFound:             axiom.CodeNotFound,
	ErrDuplicateEntry:       axiom.CodeDuplicateEntry,
	ErrIdempotencyKeyReused: axiom.CodeIdempotencyKeyReused,
	ErrIdempotencyKeyInUse:  axiom.CodeIdempotencyKeyInUse,
	ErrTemplateNotFound:     axiom.CodeTemplateNotFound,
	ErrPropertyNotFound:     axiom.CodePropertyNotFound,
	ErrInvalidState:         axiom.CodeInvalidState,
	ErrRateLimited:          axiom.CodeRateLimitExceeded,
	ErrServiceUnavailable:   axiom.CodeServiceUnavailable,
}

// Is matches the sentinel errors of this package.
func (e *Error) Is(target error) bool {
	want, ok := sentinelCodes[target]
	return ok && e.effectiveCode() == want
}

// effectiveCode is Code when it is one the client knows, or else the code
// the status stands for: a code added to the API later still matches the
// sentinel of its status.
func (e *Error) effectiveCode() axiom.ErrorCode {
	if e.Code.Known() {
		return e.Code
	}
	// A 422 without a known code could be of any kind; it matches none.
	return axiom.CodeForStatus(e.StatusCode)
}

// newError builds the *Error of a non-2xx response whose body has been
// read; secret is blanked out of everything taken from the response.
func newError(resp *http.Response, body []byte, secret string, now time.Time) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	if req := resp.Request; req != nil {
		e.Method, e.Path = req.Method, req.URL.Path
	}
	e.RateLimit, _ = parseRateLimit(resp.Header)
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)

	var env gen.Error
	if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code = axiom.ErrorCode(env.Error.Code)
		e.Message = redact(env.Error.Message, secret)
		e.DocumentationURL = env.Error.DocumentationURL
		return e
	}
	e.Message = redact(summarize(body, resp.Header.Get("Content-Type")), secret)
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if len(body) > 0 {
		kept := body[:min(len(body), maxErrorBody)]
		if secret != "" {
			kept = bytes.ReplaceAll(kept, []byte(secret), []byte("[REDACTED]"))
		}
		e.Body = bytes.Clone(kept)
	}
	return e
}

// summarize makes one short line out of a body that is not the envelope.
func summarize(body []byte, contentType string) string {
	const maxLen = 200
	if len(body) == 0 || !utf8.Valid(body) {
		return ""
	}
	s := string(body)
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || strings.HasPrefix(strings.TrimSpace(s), "<") {
		if title, ok := htmlTitle(s); ok {
			s = title
		} else {
			s = stripTags(s)
		}
		s = html.UnescapeString(s)
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

// htmlTitle returns the text of the page's <title> element.
func htmlTitle(s string) (string, bool) {
	i := indexASCIIFold(s, "<title")
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(s[i:], '>')
	if j < 0 {
		return "", false
	}
	rest := s[i+j+1:]
	k := indexASCIIFold(rest, "</title")
	if k < 0 {
		return "", false
	}
	return rest[:k], true
}

// stripTags replaces markup with spaces, keeping the text between tags.
func stripTags(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// indexASCIIFold is strings.Index ignoring the case of ASCII letters, with
// byte offsets into s (strings.ToLower could change them).
func indexASCIIFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

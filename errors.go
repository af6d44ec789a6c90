package axiom

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrorCode is the machine-readable code of an API error, the `code` of the
// error envelope. The spec lists the codes (components.schemas.ErrorCode);
// clients must tolerate codes they do not know.
type ErrorCode string

// The error codes of the API, as openapi.yaml lists them.
const (
	CodeInvalidParameter     ErrorCode = "invalid_parameter"
	CodeUnauthorized         ErrorCode = "unauthorized"
	CodeForbidden            ErrorCode = "forbidden"
	CodeNotFound             ErrorCode = "not_found"
	CodeMethodNotAllowed     ErrorCode = "method_not_allowed"
	CodeIdempotencyKeyInUse  ErrorCode = "idempotency_key_in_use"
	CodePayloadTooLarge      ErrorCode = "payload_too_large"
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type"
	CodeDuplicateEntry       ErrorCode = "duplicate_entry"
	CodeIdempotencyKeyReused ErrorCode = "idempotency_key_reused"
	CodeInvalidState         ErrorCode = "invalid_state"
	CodeTemplateNotFound     ErrorCode = "template_not_found"
	CodePropertyNotFound     ErrorCode = "property_not_found"
	CodeRateLimitExceeded    ErrorCode = "rate_limit_exceeded"
	CodeSendQuotaExceeded    ErrorCode = "send_quota_exceeded"
	CodeInternal             ErrorCode = "internal_error"
	CodeServiceUnavailable   ErrorCode = "service_unavailable"
)

// codeStatus is the one table from error code to HTTP status.
var codeStatus = map[ErrorCode]int{
	CodeInvalidParameter:     http.StatusBadRequest,
	CodeUnauthorized:         http.StatusUnauthorized,
	CodeForbidden:            http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeIdempotencyKeyInUse:  http.StatusConflict,
	CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeDuplicateEntry:       http.StatusUnprocessableEntity,
	CodeIdempotencyKeyReused: http.StatusUnprocessableEntity,
	CodeInvalidState:         http.StatusUnprocessableEntity,
	CodeTemplateNotFound:     http.StatusUnprocessableEntity,
	CodePropertyNotFound:     http.StatusUnprocessableEntity,
	CodeRateLimitExceeded:    http.StatusTooManyRequests,
	CodeSendQuotaExceeded:    http.StatusTooManyRequests,
	CodeInternal:             http.StatusInternalServerError,
	CodeServiceUnavailable:   http.StatusServiceUnavailable,
}

// ErrorCodes lists every code the API answers with, in the spec's order.
func ErrorCodes() []ErrorCode {
	return []ErrorCode{
		CodeInvalidParameter, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeMethodNotAllowed,
		CodeIdempotencyKeyInUse, CodePayloadTooLarge, CodeUnsupportedMediaType, CodeDuplicateEntry,
		CodeIdempotencyKeyReused, CodeInvalidState, CodeTemplateNotFound, CodePropertyNotFound, CodeRateLimitExceeded, CodeSendQuotaExceeded, CodeInternal,
		CodeServiceUnavailable,
	}
}

// Known reports whether c is one of the API's codes.
func (c ErrorCode) Known() bool { _, ok := codeStatus[c]; return ok }

// Status is the HTTP status that answers c; 500 for a code the API does not have.
func (c ErrorCode) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// CodeForStatus is the code a bare HTTP status stands for when an answer
// carries no code of its own (a proxy's page, a framework's 404), or "".
// 422 has several codes and stands for none.
func CodeForStatus(status int) ErrorCode {
	switch status {
	case http.StatusBadRequest:
		return CodeInvalidParameter
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return CodePayloadTooLarge
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedMediaType
	case http.StatusTooManyRequests:
		return CodeRateLimitExceeded
	case http.StatusServiceUnavailable:
		return CodeServiceUnavailable
	}
	if status >= 500 {
		return CodeInternal
	}
	return ""
}

// DocsBase is where each error code is explained, as in the page's example.
const DocsBase = "https://api.axiom-console.com/docs/errors#"

// DocumentationURL is the page that explains c.
func (c ErrorCode) DocumentationURL() string { return DocsBase + string(c) }

// Error is the one error type of the domain: a code, a message for the
// API's client, and the cause, which is logged but never sent. Layers
// create it where the fact is known and wrap it with %w on the way up.
type Error struct {
	Code    ErrorCode
	Message string
	Err     error
	// RetryAfter, when positive, is sent as Retry-After: when the request
	// can succeed again.
	RetryAfter time.Duration
}

// Errorf returns an *Error of code c whose message is formatted.
func Errorf(c ErrorCode, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// Internal is a failure the client cannot act on; err is logged, never sent.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "An internal error occurred", Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes every *Error match the sentinel of its code: errors.Is(err,
// axiom.ErrNotFound) holds for any not_found error, whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels to test errors with errors.Is.
var (
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrDuplicate        = &Error{Code: CodeDuplicateEntry}
	ErrInvalidState     = &Error{Code: CodeInvalidState}
	ErrTemplateNotFound = &Error{Code: CodeTemplateNotFound}
	ErrInvalidParameter = &Error{Code: CodeInvalidParameter}
	ErrSendQuota        = &Error{Code: CodeSendQuotaExceeded}
)

// ErrorCodeOf is the code of the *Error that err wraps, or internal_error.
func ErrorCodeOf(err error) ErrorCode {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

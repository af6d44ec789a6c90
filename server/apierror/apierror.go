// Package apierror is the one error type the server's layers return for a
// failure the client caused or must see; the server renders every one of
// them, and every other error, as the API's error envelope in one place.
package apierror

import (
	"fmt"
	"net/http"

	"github.com/axiomkit/axiom/gen"
)

// DocsBase is where each error code is explained, as in the page's example.
const DocsBase = "https://api.axiom-console.com/docs/errors#"

// Error is an API error: the status, the envelope's code and its message.
type Error struct {
	Status  int
	Code    gen.ErrorCode
	Message string
	Err     error // the cause, logged but never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Envelope is the body sent for e.
func (e *Error) Envelope() gen.Error {
	return gen.Error{Error: gen.ErrorDetail{
		Code:             e.Code,
		Message:          e.Message,
		DocumentationURL: DocsBase + string(e.Code),
	}}
}

func newf(status int, code gen.ErrorCode, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParameter is a 400 naming the offending parameter.
func InvalidParameter(format string, args ...any) *Error {
	return newf(http.StatusBadRequest, gen.ErrorCodeInvalidParameter, format, args...)
}

// Unauthorized is a 401.
func Unauthorized(format string, args ...any) *Error {
	return newf(http.StatusUnauthorized, gen.ErrorCodeUnauthorized, format, args...)
}

// Forbidden is a 403.
func Forbidden(format string, args ...any) *Error {
	return newf(http.StatusForbidden, gen.ErrorCodeForbidden, format, args...)
}

// NotFound is a 404.
func NotFound(format string, args ...any) *Error {
	return newf(http.StatusNotFound, gen.ErrorCodeNotFound, format, args...)
}

// MethodNotAllowed is a 405; the caller sets the Allow header.
func MethodNotAllowed(format string, args ...any) *Error {
	return newf(http.StatusMethodNotAllowed, gen.ErrorCodeMethodNotAllowed, format, args...)
}

// PayloadTooLarge is a 413.
func PayloadTooLarge(format string, args ...any) *Error {
	return newf(http.StatusRequestEntityTooLarge, gen.ErrorCodePayloadTooLarge, format, args...)
}

// UnsupportedMediaType is a 415.
func UnsupportedMediaType(format string, args ...any) *Error {
	return newf(http.StatusUnsupportedMediaType, gen.ErrorCodeUnsupportedMediaType, format, args...)
}

// Duplicate is a 422 duplicate_entry.
func Duplicate(format string, args ...any) *Error {
	return newf(http.StatusUnprocessableEntity, gen.ErrorCodeDuplicateEntry, format, args...)
}

// IdempotencyKeyReused is a 422 idempotency_key_reused.
func IdempotencyKeyReused(format string, args ...any) *Error {
	return newf(http.StatusUnprocessableEntity, gen.ErrorCodeIdempotencyKeyReused, format, args...)
}

// InvalidState is a 422 invalid_state: the campaign's status forbids this.
func InvalidState(format string, args ...any) *Error {
	return newf(http.StatusUnprocessableEntity, gen.ErrorCodeInvalidState, format, args...)
}

// TemplateNotFound is a 422 template_not_found.
func TemplateNotFound(format string, args ...any) *Error {
	return newf(http.StatusUnprocessableEntity, gen.ErrorCodeTemplateNotFound, format, args...)
}

// RateLimited is a 429; the caller sets Retry-After.
func RateLimited(format string, args ...any) *Error {
	return newf(http.StatusTooManyRequests, gen.ErrorCodeRateLimitExceeded, format, args...)
}

// Internal is a 500 whose cause err is logged, never sent.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: gen.ErrorCodeInternalError,
		Message: "An internal error occurred", Err: err}
}

package ca

import (
	"errors"
	"fmt"
)

// Kind classifies an error by who must act on it. The HTTP layer maps kinds
// to status codes once, at the edge; nothing in this package knows HTTP.
type Kind int

// Error kinds.
const (
	KindInternal     Kind = iota // our fault; details are logged, not shown
	KindInvalid                  // malformed or unacceptable input
	KindUnauthorized             // missing or wrong credentials
	KindForbidden                // authenticated, but not allowed
	KindNotFound                 // the thing named does not exist
	KindConflict                 // the thing exists but its state forbids the change
	KindRateLimited              // too many attempts
	KindUnavailable              // a dependency is down; try again later
)

// Error is a domain error with a stable machine-readable Code (for example
// "weak_key") and a message safe to show to the caller.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error // underlying cause; logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("ca: %s: %v", e.Message, e.Err)
	}
	return "ca: " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(kind Kind, code, msg string, cause error) *Error {
	return &Error{Kind: kind, Code: code, Message: msg, Err: cause}
}

func invalid(code, format string, args ...any) *Error {
	return newErr(KindInvalid, code, fmt.Sprintf(format, args...), nil)
}

func internal(msg string, cause error) *Error {
	return newErr(KindInternal, "internal", msg, cause)
}

// AsError returns err as an *Error, wrapping unknown errors as internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internal("internal error", err)
}

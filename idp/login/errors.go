package login

import (
	"errors"
	"net/http"

	"github.com/yagona/yagona/pkg/httpjson"
)

// Codes of the login API's errors shared by the provider and the methods
// (docs/openapi.yaml, LoginError); a method adds its own (the CMS
// challenge's challenge_expired and invalid_signature).
const (
	CodeInvalidRequest = "invalid_request"
	CodeRequestExpired = "request_expired"
	CodeRateLimited    = "rate_limited"
	CodeUnavailable    = "temporarily_unavailable"
	CodeRefused        = "certificate_refused"
	CodeACRNotMet      = "acr_not_met"
)

// Error is a refused login step, answered as JSON by the login API
// ({"error": Code, "error_description": Detail}) or as an error page
// (the text under Key, and Detail).
type Error struct {
	Status int
	Code   string // stable, for programs
	Detail string // for people, in English; never internals
	Key    string // the message key of the page text (web catalogue)
}

func (e *Error) Error() string { return "login: " + e.Code + ": " + e.Detail }

// RateLimited is the answer to a source (or service) past its failed
// attempts; detail says which.
func RateLimited(detail string) *Error {
	return &Error{http.StatusTooManyRequests, CodeRateLimited, detail, "error.rate_limited"}
}

// Unavailable is the answer when a dependency (the cache, the store) is
// down: the person may try again.
func Unavailable() *Error {
	return &Error{http.StatusServiceUnavailable, CodeUnavailable, "try again", "error.server"}
}

// WriteError answers e in the login API's JSON format.
func WriteError(w http.ResponseWriter, e *Error) {
	httpjson.Write(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Detail})
}

// Decode reads r's body, a JSON object of at most maxBytes with
// Content-Type application/json, no unknown fields and nothing after it,
// into v (pkg/httpjson). A refusal is an invalid_request with the status
// httpjson gives (400, 413 or 415).
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) *Error {
	err := httpjson.Decode(w, r, httpjson.Rules{TypeRequired: true, MaxBytes: maxBytes}, v)
	if err == nil {
		return nil
	}
	var he *httpjson.Error
	if !errors.As(err, &he) {
		return &Error{http.StatusBadRequest, CodeInvalidRequest, "cannot read the body", "error.bad_request"}
	}
	return &Error{he.Status, CodeInvalidRequest, he.Detail, "error.bad_request"}
}

package idp

import (
	"context"
	"errors"
	"net/http"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

// OAuth and OpenID Connect error codes (RFC 6749 §4.1.2.1 and §5.2, OpenID
// Connect Core §3.1.2.6, RFC 7009, RFC 9126).
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errInvalidGrant         = "invalid_grant"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrant     = "unsupported_grant_type"
	errUnsupportedResponse  = "unsupported_response_type"
	errInvalidScope         = "invalid_scope"
	errAccessDenied         = "access_denied"
	errServerError          = "server_error"
	errTemporarilyUnavail   = "temporarily_unavailable"
	errLoginRequired        = "login_required"
	errConsentRequired      = "consent_required"
	errInteractionRequired  = "interaction_required"
	errInvalidRequestURI    = "invalid_request_uri"
	errInvalidRequestObject = "invalid_request_object"
	errInvalidToken         = "invalid_token"
	errInsufficientScope    = "insufficient_scope"
	errUnsupportedTokenType = "unsupported_token_type"
	errSlowDown             = "slow_down"
)

// oauthError is an error the protocol names, with the HTTP status it is
// sent with on a direct (non-redirect) answer.
type oauthError struct {
	Code        string
	Description string
	Status      int
	Cause       error // logged, never sent
}

func (e *oauthError) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Description + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *oauthError) Unwrap() error { return e.Cause }

func oerr(code, desc string) *oauthError {
	st := http.StatusBadRequest
	switch code {
	case errInvalidClient, errInvalidToken:
		st = http.StatusUnauthorized
	case errAccessDenied, errInsufficientScope:
		st = http.StatusForbidden
	case errServerError:
		st = http.StatusInternalServerError
	case errTemporarilyUnavail:
		st = http.StatusServiceUnavailable
	case errSlowDown:
		st = http.StatusTooManyRequests
	}
	return &oauthError{Code: code, Description: desc, Status: st}
}

func (e *oauthError) with(cause error) *oauthError {
	c := *e
	c.Cause = cause
	return &c
}

func (e *oauthError) status(st int) *oauthError {
	c := *e
	c.Status = st
	return &c
}

// asOAuth turns any error into the protocol error to send: an oauthError
// as it is, anything else a server_error (whose cause is only logged).
func asOAuth(err error) *oauthError {
	var oe *oauthError
	if errors.As(err, &oe) {
		return oe
	}
	if unavailable(err) {
		return oerr(errTemporarilyUnavail, "try again in a moment").with(err)
	}
	return oerr(errServerError, "the request could not be completed").with(err)
}

// unavailable reports whether err comes from the store or the cache being
// down (or too slow), which is answered 503 temporarily_unavailable, not
// 500.
func unavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, cache.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded)
}

// writeOAuthError sends a JSON error body (RFC 6749 §5.2). A 401 for
// client authentication carries WWW-Authenticate.
func (p *Provider) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	oe := asOAuth(err)
	if oe.Status >= 500 {
		p.log.ErrorContext(r.Context(), "oauth request failed", "path", r.URL.Path, "err", err)
	} else {
		p.log.DebugContext(r.Context(), "oauth request refused", "path", r.URL.Path, "err", err)
	}
	if oe.Status == http.StatusUnauthorized {
		if oe.Code == errInvalidToken {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="yagona"`)
		}
	}
	body := map[string]string{"error": oe.Code}
	if oe.Description != "" {
		body["error_description"] = oe.Description
	}
	httpjson.Write(w, oe.Status, body)
}

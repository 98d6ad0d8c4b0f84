package idp

import (
	"errors"
	"net/http"

	"github.com/yagona/yagona/pkg/web"
)

// pageError is an error shown to the person, never redirected (unknown
// client, bad redirect URI, expired request).
type pageError struct {
	status int
	code   string
	key    string
	detail string
}

func (e *pageError) Error() string { return e.code + ": " + e.detail }

func (p *Provider) showError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
	case unavailable(err):
		p.log.WarnContext(r.Context(), "page request failed: a dependency is down", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		pe = &pageError{status: http.StatusServiceUnavailable, code: errTemporarilyUnavail, key: "error.server"}
	default:
		p.log.ErrorContext(r.Context(), "page request failed", "path", r.URL.Path, "err", err)
		pe = &pageError{status: http.StatusInternalServerError, code: errServerError, key: "error.server"}
	}
	p.pages.Render(w, r, web.ErrorPage{Code: pe.code, Message: pe.key, Detail: pe.detail}, pe.status)
}

// csrf is the form token of a page: bound to the browser and the request.
func (p *Provider) csrf(r *http.Request, purpose string) string {
	return web.CSRF{Key: p.cfg.SubjectSecret}.TokenFor(existingBrowserID(r), purpose)
}

func (p *Provider) checkCSRF(r *http.Request, purpose, token string) bool {
	return web.CSRF{Key: p.cfg.SubjectSecret}.CheckFor(existingBrowserID(r), purpose, token)
}

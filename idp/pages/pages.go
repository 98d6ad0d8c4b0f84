// Package pages is the OpenID provider's page set on pkg/web: the login,
// consent, logout, logged-out and signature-check pages, their templates,
// their uz/ru/en catalogue entries and the login page's script. The
// layout, the error page (web.ErrorPage), language negotiation and the
// security headers are pkg/web's.
//
// The pages carry no inline script, style or event handler. The login
// page's script (static/login.js) talks to the local signing agent and to
// the provider's /login/challenge and /login/certificate endpoints;
// everything it needs is passed in data- attributes.
package pages

import (
	"embed"
	"io/fs"

	"github.com/yagona/yagona/pkg/web"
)

//go:embed templates/*.html locales/*.json static
var files embed.FS

// LoginPage asks the person to sign a challenge with a key held by the
// local signing agent, or to log in with a TLS client certificate.
type LoginPage struct {
	Request     string // login request id (opaque)
	ClientName  string // the service the person is logging in to; empty: not named
	CSRF        string // form token; the login page has no form, it is exposed as data-csrf
	AgentURL    string // base URL of the local signing agent, e.g. "http://127.0.0.1:8765"
	TLSLoginURL string // URL of the TLS client certificate login; empty hides it
	Error       string // message key of an error to show; empty for none
}

// ConsentPage asks the person to allow a service the scopes it requested.
type ConsentPage struct {
	Request    string   // login request id, posted back as "request"
	ClientName string   // the service asking
	CSRF       string   // form token, posted back as "csrf"
	Scopes     []string // scope names; unknown ones are shown verbatim
}

// LogoutPage asks the person to confirm the end of their session.
type LogoutPage struct {
	CSRF       string            // form token, posted back as "csrf"
	ClientName string            // the service that asked for the logout; empty: none
	State      string            // posted back as "state" when non-empty
	Hidden     map[string]string // extra fields posted back, in key order
}

// LoggedOutPage tells the person the session has ended.
type LoggedOutPage struct {
	ReturnURL string // where to offer to go next; empty shows no link
}

// VerifyPage takes a signature (and a detached document) and shows the
// validation result in words a citizen understands.
type VerifyPage struct {
	Checked bool
	Error   string // an error.* message key
	Overall string // passed, failed or indeterminate
	Signers []VerifySigner
}

// VerifySigner is one signature's result on the verify page.
type VerifySigner struct {
	Outcome            string // passed, failed or indeterminate
	Reason             string // an ETSI sub-indication, e.g. HASH_FAILURE; empty if passed
	Name, PINFL        string
	Organization       string
	ExistedBy, Claimed string // formatted times
	Proven             bool   // ExistedBy comes from a time-stamp
}

// Template is "login": templates/login.html.
func (LoginPage) Template() string { return "login" }

// Template is "consent".
func (ConsentPage) Template() string { return "consent" }

// Template is "logout".
func (LogoutPage) Template() string { return "logout" }

// Template is "loggedout".
func (LoggedOutPage) Template() string { return "loggedout" }

// Template is "verify".
func (VerifyPage) Template() string { return "verify" }

// errorKeys are the message keys the provider passes at run time, as
// web.ErrorPage.Message and LoginPage.Error, beyond pkg/web's own.
var errorKeys = []string{
	"error.unknown_client", "error.bad_redirect_uri", "error.request_expired",
	"error.login_failed", "error.certificate_revoked", "error.certificate_expired",
	"error.certificate_untrusted", "error.agent_unreachable", "error.acr_not_met",
}

// describedScopes are the scopes the consent page describes; others are
// shown by name. Each needs a "scope.<name>" message.
var describedScopes = []string{
	"openid", "profile", "pinfl", "organization", "email", "phone",
	"offline_access", "ca:officer", "ca:admin", "clients:admin", "decisions",
}

// New parses the provider's pages; it fails, listing every problem, when a
// translation is missing.
func New() (*web.Renderer, error) { return newRenderer(files) }

func newRenderer(fsys fs.FS) (*web.Renderer, error) {
	required := append([]string{}, errorKeys...)
	for _, s := range describedScopes {
		required = append(required, "scope."+s)
	}
	return web.New(web.Config{
		Files:    fsys,
		Pages:    []web.Page{LoginPage{}, ConsentPage{}, LogoutPage{}, LoggedOutPage{}, VerifyPage{}},
		Required: required,
	})
}

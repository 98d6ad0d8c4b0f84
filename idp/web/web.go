// Package web renders the OpenID provider's HTML pages — login, consent,
// logout, logged out and error — in Uzbek (Latin script, the default),
// Russian and English, and serves their static assets.
//
// Templates, translation catalogues and assets are embedded. New parses all
// of them at once and refuses to start when a catalogue lacks a key that
// another catalogue or a template uses, so a missing translation is a
// start-up error, never a blank on a page.
//
// The pages carry no inline script, style or event handler: they are meant
// to be served under the Content-Security-Policy that SecurityHeaders sets.
// The login page's script (static/login.js) talks to the local signing
// agent and to the provider's /login/challenge and /login/certificate
// endpoints; everything it needs is passed in data- attributes.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
)

//go:embed templates/*.html locales/*.json static
var files embed.FS

// Page is one of the pages the Renderer knows: LoginPage, ConsentPage,
// LogoutPage, LoggedOutPage or ErrorPage.
type Page interface{ page() string }

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

// ErrorPage explains a failure. It never links to the client's redirect
// URI: an error page is what is shown when that URI cannot be trusted.
type ErrorPage struct {
	Code    string // OAuth error code, e.g. invalid_request
	Message string // message key; an unknown key shows error.bad_request
	Detail  string // untranslated technical detail; may be empty
}

func (LoginPage) page() string     { return "login" }
func (ConsentPage) page() string   { return "consent" }
func (LogoutPage) page() string    { return "logout" }
func (LoggedOutPage) page() string { return "loggedout" }
func (ErrorPage) page() string     { return "error" }
func (VerifyPage) page() string    { return "verify" }

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

// pageNames lists every page template; each is parsed with base.html.
var pageNames = []string{"login", "consent", "logout", "loggedout", "error", "verify"}

// Renderer renders the embedded pages. It is safe for concurrent use.
type Renderer struct {
	pages  map[string]map[string]*template.Template // language, page
	assets *assets
}

// New parses every template and catalogue. It fails, listing every
// problem, if a catalogue lacks a key that another catalogue, a template or
// the list of error messages needs.
func New() (*Renderer, error) { return newRenderer(files) }

func newRenderer(fsys fs.FS) (*Renderer, error) {
	static, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	a, err := loadAssets(static)
	if err != nil {
		return nil, err
	}
	cats, err := loadCatalogs(fsys)
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]map[string]*template.Template{}, assets: a}
	var used []string
	for _, lang := range languages {
		r.pages[lang.code] = map[string]*template.Template{}
		for _, name := range pageNames {
			t, err := template.New("base.html").Funcs(funcs(cats[lang.code], a)).
				ParseFS(fsys, "templates/base.html", "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("web: %w", err)
			}
			r.pages[lang.code][name] = t
			if lang.code != defaultLang {
				continue // the same templates: check them once
			}
			keys, err := constArgs(t, "t", "fill")
			if err != nil {
				return nil, err
			}
			used = append(used, keys...)
			if err := a.check(t); err != nil {
				return nil, err
			}
		}
	}
	if err := checkCatalogs(cats, used); err != nil {
		return nil, err
	}
	return r, nil
}

// view is what the templates see.
type view struct {
	Lang  string
	Langs []langLink
	Page  Page
}

// Render writes page in the request's language (see Lang) with status; a
// status of 0 means 200. The page is rendered into a buffer first, so a
// template failure is a clean 500. Pages are not cached (no-store) unless
// the caller has set another Cache-Control.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, page Page, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	lang := Lang(req)
	t := r.pages[lang][page.page()]
	var buf bytes.Buffer
	if err := t.Execute(&buf, view{Lang: lang, Langs: langLinks(req, lang), Page: page}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Add("Vary", "Accept-Language, Cookie")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store") // pages hold CSRF tokens; SecurityHeaders sets this too
	}
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// Package web renders the identity provider's pages: login, consent,
// logout and errors, in Uzbek (Latin script, the default), Russian and
// English. Templates and assets are embedded; pages carry no inline
// scripts or styles, so the Content-Security-Policy SecurityHeaders sets
// can forbid them.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Languages, the default first.
var Languages = []string{"uz", "ru", "en"}

const langCookie = "yagona_lang"

// Page is one of the page structs below.
type Page interface{ page() string }

// LoginPage asks the person to sign the challenge with the local agent,
// or to use a TLS client certificate.
type LoginPage struct {
	Request     string // login request id
	ClientName  string // the service the person logs in to
	CSRF        string
	AgentURL    string // the local signing agent, e.g. http://127.0.0.1:8765
	TLSLoginURL string // empty hides the TLS alternative
	Error       string // message key, empty for none
}

// ConsentPage asks the person to allow a client the scopes.
type ConsentPage struct {
	Request, ClientName, CSRF string
	Scopes                    []string
}

// LogoutPage asks the person to confirm logging out.
type LogoutPage struct {
	CSRF, ClientName, State string
	Hidden                  map[string]string
}

// LoggedOutPage says the person is logged out.
type LoggedOutPage struct{ ReturnURL string }

// ErrorPage explains an error; it never links to an unverified URI.
type ErrorPage struct {
	Code    string // OAuth error code
	Message string // message key
	Detail  string // untranslated technical detail
}

func (LoginPage) page() string     { return "login" }
func (ConsentPage) page() string   { return "consent" }
func (LogoutPage) page() string    { return "logout" }
func (LoggedOutPage) page() string { return "loggedout" }
func (ErrorPage) page() string     { return "error" }

// Renderer renders the embedded pages.
type Renderer struct {
	pages  map[string]*template.Template
	static map[string]asset
}

type asset struct {
	body []byte
	etag string
	ct   string
}

// New parses every template and checks the catalogues.
func New() (*Renderer, error) {
	keys := func(m map[string]string) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	ref := keys(catalogue[Languages[0]])
	for _, l := range Languages[1:] {
		if got := keys(catalogue[l]); !slices.Equal(got, ref) {
			return nil, fmt.Errorf("web: catalogue %s does not have the same keys as %s", l, Languages[0])
		}
	}
	r := &Renderer{pages: map[string]*template.Template{}, static: map[string]asset{}}
	for _, name := range []string{"login", "consent", "logout", "loggedout", "error"} {
		t, err := template.New("layout.html").Funcs(template.FuncMap{
			"t": func(lang, key string) string { return translate(lang, key) },
			"scope": func(lang, s string) string {
				if v, ok := catalogue[lang]["scope."+s]; ok {
					return v
				}
				return s
			},
		}).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", name, err)
		}
		r.pages[name] = t
	}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if path.Ext(p) == ".js" {
			ct = "text/javascript; charset=utf-8"
		}
		r.static["/static/"+strings.TrimPrefix(p, "static/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ct: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func translate(lang, key string) string {
	if v, ok := catalogue[lang][key]; ok {
		return v
	}
	if strings.HasPrefix(key, "error.") {
		return catalogue[lang]["error.bad_request"]
	}
	return key
}

type langLink struct {
	Code, Name, URL string
	Active          bool
}

type view struct {
	Lang  string
	Langs []langLink
	Page  any
}

// Render writes page with status in the request's language.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, page Page, status int) {
	lang := Lang(req)
	v := view{Lang: lang, Page: page}
	for _, l := range Languages {
		q := req.URL.Query()
		q.Set("lang", l)
		u := url.URL{Path: req.URL.Path, RawQuery: q.Encode()}
		if req.Method != http.MethodGet {
			u.RawQuery = url.Values{"lang": {l}}.Encode()
		}
		v.Langs = append(v.Langs, langLink{Code: l, Name: catalogue[l]["lang."+l], URL: u.String(), Active: l == lang})
	}
	var buf bytes.Buffer
	if err := r.pages[page.page()].Execute(&buf, v); err != nil {
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Static serves the embedded assets under /static/.
func (r *Renderer) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a, ok := r.static[req.URL.Path]
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ct)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		if req.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(a.body))
	})
}

func valid(l string) bool { return slices.Contains(Languages, l) }

// Lang chooses the language: ?lang=, the cookie, Accept-Language, uz.
func Lang(req *http.Request) string {
	if l := req.URL.Query().Get("lang"); valid(l) {
		return l
	}
	if c, err := req.Cookie(langCookie); err == nil && valid(c.Value) {
		return c.Value
	}
	if l := fromAcceptLanguage(req.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return Languages[0]
}

// fromAcceptLanguage returns the supported language with the highest
// quality, or "".
func fromAcceptLanguage(h string) string {
	if len(h) > 512 {
		return ""
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if valid(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// SetLang remembers a valid ?lang= in a cookie.
func SetLang(w http.ResponseWriter, req *http.Request) {
	l := req.URL.Query().Get("lang")
	if !valid(l) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
}

// SecurityHeaders wraps page handlers. form-action allows https and
// loopback http because a consent or logout POST answers with a redirect
// to the service, which some browsers check against form-action.
func SecurityHeaders(h http.Handler, agentOrigins []string) http.Handler {
	connect := strings.Join(append([]string{"'self'"}, agentOrigins...), " ")
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; form-action 'self' https: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, req)
	})
}

// Package web is the HTML edge of Yagona's services: it renders a
// service's pages in Uzbek (Latin script, the default), Russian and
// English inside one shared layout, serves their static assets, and
// guards them with security headers, a Content-Security-Policy with a
// fresh nonce per response (CSP Level 3 nonce sources), cross-origin
// protection and CSRF form tokens.
//
// A service brings its own files (an fs.FS, usually embedded):
//
//	templates/<name>.html   one template per page, defining "title" and
//	                        "main" (and optionally "head")
//	locales/uz.json, ru.json, en.json   its message catalogues
//	static/                 its .js, .css and .svg files (optional)
//
// and a Go struct per page whose Template method names its template. The
// library adds its own: the layout (templates/base.html, with the site
// header and the language switch), the error page (ErrorPage), the
// catalogue entries they use and the generic error messages ("error.*"),
// and the shared assets (style.css, logo.svg). A service's catalogue entry
// replaces a shared one of the same key.
//
// New parses everything at once and refuses to start when a catalogue
// lacks a key that another catalogue, a template or Config.Required names,
// when a text's placeholders differ between languages, when the Uzbek
// catalogue is not in Latin script, when a template names a missing
// static file, or when a page's zero value does not render or holds inline
// code without a nonce: a missing translation is a start-up error, never a
// blank on a page.
//
// Templates see the page as .Page, the language as .Lang and the
// response's CSP nonce as .Nonce (inside {{with .Page}}, as $.Nonce). The
// functions they may call are t "key" (a fixed message; the key must be a
// constant), fill "key" value (a message with its placeholder filled in,
// as parts for the "fill" template), msg key (a message key chosen at run
// time: only "error." keys, others show error.bad_request), opt "prefix."
// name (the message prefix+name, or "" when there is none) and
// asset "file" (the file's versioned URL under /static/).
//
// Pages are meant to carry no inline script or style at all; the nonce is
// there for the page that cannot do without one.
//
// Standards: the language is negotiated from Accept-Language (RFC 9110
// §12.5.4, language ranges of RFC 4647); the policy uses nonce sources of
// Content Security Policy Level 3; Guard refuses cross-site form posts by
// their Fetch Metadata (Sec-Fetch-Site) or Origin header, through
// http.CrossOriginProtection; CSRF form tokens are an HMAC of a browser's
// cookie and the form's purpose, so the server keeps no state for them.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
)

//go:embed shared
var embedded embed.FS

// shared holds the library's own templates, catalogues and assets, laid
// out as a service's files are. (fs.Sub fails only on an invalid name.)
var shared, _ = fs.Sub(embedded, "shared")

// Page is a page a Renderer renders: a struct the service defines, whose
// Template method names its template, templates/<name>.html. Render takes
// only Pages, so the compiler sees to it that what is rendered is one of
// the service's page types.
type Page interface{ Template() string }

// ErrorPage explains a failure: the one error page of every service. It
// never links anywhere but to itself in another language: an error page
// is what is shown when the place the person came from cannot be trusted.
type ErrorPage struct {
	Code    string // protocol error code shown for support, e.g. invalid_request; may be empty
	Message string // an "error." message key; any other shows error.bad_request
	Detail  string // untranslated technical detail; may be empty
}

// Template is "error", the library's own error page.
func (ErrorPage) Template() string { return "error" }

// Config is a service's page set.
type Config struct {
	// Files holds the service's templates, locales and static files.
	Files fs.FS
	// Pages lists every page type the service renders, as zero values
	// (ErrorPage is always there). New parses each one's template and
	// renders its zero value once in every language.
	Pages []Page
	// Required lists message keys that no template names but every
	// catalogue must have: keys chosen at run time, such as the error
	// messages a service passes to ErrorPage or the names opt looks up.
	Required []string
}

// reserved are the templates of the library; a service may not define them.
var reserved = map[string]bool{"base": true, "error": true}

// Renderer renders a service's pages. It is safe for concurrent use.
type Renderer struct {
	pages  map[string]map[string]*template.Template // language, page
	assets *assets
}

// Must returns r, or panics with err: for a page set built from embedded
// files at start-up, where an error is a bug that tests catch.
func Must(r *Renderer, err error) *Renderer {
	if err != nil {
		panic(err)
	}
	return r
}

// New parses the shared and the service's templates, catalogues and
// assets. It fails, listing every problem, if a catalogue lacks a key that
// another catalogue, a template or cfg.Required needs, or if a page does
// not render.
func New(cfg Config) (*Renderer, error) {
	if cfg.Files == nil {
		return nil, errors.New("web: Config.Files is nil")
	}
	a, err := loadAssets(cfg.Files)
	if err != nil {
		return nil, err
	}
	cats, err := loadCatalogs(cfg.Files)
	if err != nil {
		return nil, err
	}
	pages := append([]Page{ErrorPage{}}, cfg.Pages...)
	r := &Renderer{pages: map[string]map[string]*template.Template{}, assets: a}
	var used []string
	for _, lang := range languages {
		set, keys, err := parsePages(cfg.Files, pages, funcs(cats[lang.code], a), a)
		if err != nil {
			return nil, err
		}
		r.pages[lang.code] = set
		used = append(used, keys...) // the same templates each time: the keys repeat
	}
	want := append(used, cfg.Required...)
	if err := checkCatalogs(cats, append(want, fallbackError)); err != nil {
		return nil, err
	}
	if err := r.tryPages(pages); err != nil {
		return nil, err
	}
	return r, nil
}

// parsePages parses the layout with each page's template, with the
// functions of one language; it returns the templates by page name and
// the message keys they name.
func parsePages(files fs.FS, pages []Page, fm template.FuncMap, a *assets) (map[string]*template.Template, []string, error) {
	base, err := template.New("base.html").Funcs(fm).ParseFS(shared, "templates/base.html")
	if err != nil {
		return nil, nil, fmt.Errorf("web: %w", err)
	}
	set := map[string]*template.Template{}
	var used []string
	for i, p := range pages {
		name := p.Template()
		src := files
		switch {
		case i == 0:
			src = shared // ErrorPage, which New puts first
		case reserved[name]:
			return nil, nil, fmt.Errorf("web: page %T: template %q is the library's own", p, name)
		case set[name] != nil:
			return nil, nil, fmt.Errorf("web: page %T: template %q is named twice", p, name)
		}
		t, err := template.Must(base.Clone()).ParseFS(src, "templates/"+name+".html")
		if err != nil {
			return nil, nil, fmt.Errorf("web: page %T: %w", p, err)
		}
		keys, err := constArgs(t, "t", "fill")
		if err == nil {
			_, err = constArgs(t, "opt")
		}
		if err == nil {
			err = a.check(t)
		}
		if err != nil {
			return nil, nil, err
		}
		set[name] = t
		used = append(used, keys...)
	}
	return set, used, nil
}

// tryPages renders the zero value of every page in every language, so a
// template that names a field its page lacks, or holds inline code the
// policy refuses, fails at start-up.
func (r *Renderer) tryPages(pages []Page) error {
	var errs []error
	for _, lang := range languages {
		for _, p := range pages {
			var buf bytes.Buffer
			err := r.pages[lang.code][p.Template()].Execute(&buf, view{Lang: lang.code, Nonce: "n", Page: p})
			if tag := InlineCode(buf.String()); err == nil && tag != "" {
				err = fmt.Errorf("inline code without a nonce: %s", tag)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("web: page %T in %s: %w", p, lang.code, err))
			}
		}
	}
	return errors.Join(errs...)
}

// view is what the templates see.
type view struct {
	Lang  string
	Langs []langLink
	Nonce string // the response's CSP nonce; empty outside SecurityHeaders
	Page  Page
}

// Render writes page in the request's language (see Lang) with status; a
// status of 0 means 200. The page is rendered into a buffer first, so a
// template failure is a clean 500, as is a page type that was not given
// to New. Pages are not cached (no-store) unless the caller has set
// another Cache-Control.
func (r *Renderer) Render(w http.ResponseWriter, req *http.Request, page Page, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	lang := Lang(req)
	t := r.pages[lang][page.Template()]
	var buf bytes.Buffer
	if t == nil || t.Execute(&buf, view{Lang: lang, Langs: langLinks(req, lang), Nonce: Nonce(req), Page: page}) != nil {
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

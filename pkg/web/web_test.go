package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// helloPage is the test site's page (testdata/site).
type helloPage struct {
	Name   string
	Error  string
	Fruits []string
	Script bool // show an inline script with the nonce
}

func (helloPage) Template() string { return "hello" }

// notPage is a page type nobody gave to New.
type notPage struct{}

func (notPage) Template() string { return "nowhere" }

var site = os.DirFS("testdata/site")

func siteConfig() Config {
	return Config{Files: site, Pages: []Page{helloPage{}}, Required: []string{"error.no_fruit"}}
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New(siteConfig())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// render renders p for a GET of target.
func render(t *testing.T, r *Renderer, target string, p Page, status int) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodGet, target, nil), p, status)
	return w
}

func TestRenderEveryPageInEveryLanguage(t *testing.T) {
	r := newTestRenderer(t)
	cats, err := loadCatalogs(site)
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		page   Page
		status int
		want   []string
	}{
		{helloPage{Name: "Dilnoza", Fruits: []string{"apple", "kiwi"}}, 200, []string{
			`<main id="hello"`, `<strong>Dilnoza</strong>`, `<li><code>kiwi</code></li>`, `<script src="/static/hello.js?v=`,
		}},
		{ErrorPage{Code: "invalid_request", Message: "error.csrf", Detail: "no token"}, 403, []string{
			`<main id="error"`, `<code>invalid_request</code>`, `<code>no token</code>`, `role="alert"`,
		}},
	}
	for _, p := range pages {
		for _, l := range languages {
			t.Run(p.page.Template()+"/"+l.code, func(t *testing.T) {
				w := render(t, r, "/page?x=1&lang="+l.code, p.page, p.status)
				body := w.Body.String()
				h := w.Header()
				if w.Code != p.status || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Content-Language") != l.code {
					t.Errorf("%d %v", w.Code, h)
				}
				if !strings.HasPrefix(body, "<!DOCTYPE html>\n<html lang=\""+l.code+"\">") {
					t.Errorf("document does not start with the %s html element: %.80q", l.code, body)
				}
				if m := InlineCode(body); m != "" {
					t.Errorf("inline code: %s", m)
				}
				for k := range cats[l.code] {
					if strings.Contains(body, k) {
						t.Errorf("message key shown untranslated: %s", k)
					}
				}
				for _, want := range append(p.want, "Yagona", cats[l.code]["site.tagline"], `<link rel="stylesheet" href="/static/style.css?v=`) {
					if !strings.Contains(body, want) {
						t.Errorf("page lacks %s", want)
					}
				}
			})
		}
	}
}

func TestServiceTextsAndSharedTexts(t *testing.T) {
	r := newTestRenderer(t)
	body := render(t, r, "/?lang=en", helloPage{Fruits: []string{"grape"}, Error: "error.no_fruit"}, 200).Body.String()
	for _, want := range []string{
		"<h1>Hello</h1>", "Welcome!", "<li>Grape</li>", `<p class="alert" role="alert">There is no such fruit.</p>`,
		`data-msg-bye="Goodbye"`, "Yagona — single sign-on of e-government",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %s", want)
		}
	}
}

func TestLanguageSwitchKeepsQuery(t *testing.T) {
	r := newTestRenderer(t)
	body := render(t, r, "/login?request=req-1&lang=ru", helloPage{}, 200).Body.String()
	for _, want := range []string{
		`<a href="?lang=uz&amp;request=req-1" hreflang="uz" lang="uz">Oʻzbekcha</a>`,
		`<a href="?lang=ru&amp;request=req-1" hreflang="ru" lang="ru" aria-current="true">Русский</a>`,
		`<a href="?lang=en&amp;request=req-1" hreflang="en" lang="en">English</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("language switch lacks %s", want)
		}
	}
}

func TestUnknownMessageKeys(t *testing.T) {
	r := newTestRenderer(t)
	cats, _ := loadCatalogs(site)
	for _, key := range []string{"error.no_such_key", "", "hello.title", "fruit.apple", "{{.}}"} {
		for _, l := range languages {
			want := `<p class="alert" role="alert">` + cats[l.code]["error.bad_request"] + "</p>"
			for _, p := range []Page{ErrorPage{Message: key}, helloPage{Error: key + "x"}} {
				if body := render(t, r, "/?lang="+l.code, p, 400).Body.String(); !strings.Contains(body, want) {
					t.Errorf("%T key %q in %s: not shown as error.bad_request", p, key, l.code)
				}
			}
		}
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	r := newTestRenderer(t)
	const evil = `<script>alert(1)</script>`
	const attr = `" onmouseover="alert(1)`
	for _, p := range []Page{
		helloPage{Name: evil, Error: attr, Fruits: []string{evil, attr}},
		ErrorPage{Code: evil, Message: evil, Detail: attr},
	} {
		body := render(t, r, "/?lang=en&x="+`%22%3E%3Cscript%3E`, p, 200).Body.String()
		if m := InlineCode(body); m != "" {
			t.Errorf("%T: hostile value produced %s", p, m)
		}
		for _, bad := range []string{evil, attr, `"><script>`} {
			if strings.Contains(body, bad) {
				t.Errorf("%T: page holds %s unescaped", p, bad)
			}
		}
	}
}

// TestErrorPageHasNoWayOut checks that the error page links nowhere but
// to itself in another language: where it is shown, the place the person
// came from may be an attacker's.
func TestErrorPageHasNoWayOut(t *testing.T) {
	r := newTestRenderer(t)
	target := "/oauth2/authorize?client_id=rp1&redirect_uri=https%3A%2F%2Fevil.example%2F"
	body := render(t, r, target, ErrorPage{Code: "invalid_request", Message: "error.bad_request", Detail: "https://evil.example/"}, 400).Body.String()
	for _, m := range regexp.MustCompile(`(?i)\s(?:href|action|src)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "?") && !strings.HasPrefix(m[1], "/static/") {
			t.Errorf("error page links to %s", m[1])
		}
	}
	if strings.Contains(body, "<form") {
		t.Error("error page has a form")
	}
	if body := render(t, r, "/", ErrorPage{Message: "error.server"}, 500).Body.String(); strings.Contains(body, "<dl") {
		t.Error("an error page without code or detail lists them")
	}
}

func TestRenderHeadAndUnknownPage(t *testing.T) {
	r := newTestRenderer(t)
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodHead, "/", nil), helloPage{}, 0)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	if w := render(t, r, "/", notPage{}, 200); w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "<html") {
		t.Fatalf("a page New was not given: %d %q", w.Code, w.Body.String())
	}
}

func TestInlineCode(t *testing.T) {
	tests := []struct {
		html string
		bad  bool
	}{
		{`<script src="/static/login.js?v=1" defer></script>`, false},
		{`<script nonce="abc">x()</script>`, false},
		{`<style nonce="abc">p{}</style>`, false},
		{`<script>alert(1)</script>`, true},
		{`<SCRIPT type="module">x</SCRIPT>`, true},
		{`<script data-nonce="x">x</script>`, true},
		{`<p style="color:red">x</p>`, true},
		{`<p nonce="x" style="color:red">x</p>`, true},
		{`<a href="#" onclick="x()">x</a>`, true},
		{`<img src="x" ONERROR = "x()">`, true},
		{`<style>p{}</style>`, true},
		{`<p title="onclick=x style=y">x</p>`, false},
		{`<p>onclick= is just text</p>`, false},
	}
	for _, tc := range tests {
		if got := InlineCode(tc.html) != ""; got != tc.bad {
			t.Errorf("InlineCode(%q) found something: %v; want %v", tc.html, got, tc.bad)
		}
	}
}

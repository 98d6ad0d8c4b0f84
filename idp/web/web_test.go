package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// fixtures are one page of each kind, with the markup each must contain.
var fixtures = []struct {
	name   string
	page   Page
	status int
	want   []string
}{
	{"login", LoginPage{Request: "req-1", ClientName: "Soliq", CSRF: "tok-1", AgentURL: "http://127.0.0.1:8765", TLSLoginURL: "/login/tls?request=req-1"}, http.StatusOK, []string{
		`<main id="login"`, `data-request="req-1"`, `data-agent="http://127.0.0.1:8765"`,
		`<select id="keys"`, `<label for="keys">`, `<button type="button" id="sign"`,
		`id="status"`, `aria-live="polite"`, `<script src="/static/login.js?v=`, `" defer></script>`,
		`href="/login/tls?request=req-1"`, `<strong>Soliq</strong>`,
	}},
	{"consent", ConsentPage{Request: "req-1", ClientName: "Soliq", CSRF: "tok-1", Scopes: []string{"openid", "pinfl", "custom:scope"}}, http.StatusOK, []string{
		`<form method="post" action="/consent">`, `<input type="hidden" name="request" value="req-1">`,
		`<input type="hidden" name="csrf" value="tok-1">`,
		`<button type="submit" name="decision" value="allow"`, `<button type="submit" name="decision" value="deny"`,
		`<li><code>custom:scope</code></li>`,
	}},
	{"logout", LogoutPage{CSRF: "tok-1", ClientName: "Soliq", State: "st-1", Hidden: map[string]string{"client_id": "rp1", "post_logout_redirect_uri": "https://rp.example/bye"}}, http.StatusOK, []string{
		`<form method="post" action="/oauth2/logout">`, `<input type="hidden" name="csrf" value="tok-1">`,
		`<input type="hidden" name="state" value="st-1">`, `<input type="hidden" name="client_id" value="rp1">`,
		`<input type="hidden" name="post_logout_redirect_uri" value="https://rp.example/bye">`,
		`<button type="submit" name="decision" value="logout"`, `<button type="submit" name="decision" value="cancel"`,
	}},
	{"loggedout", LoggedOutPage{ReturnURL: "https://rp.example/bye"}, http.StatusOK, []string{`href="https://rp.example/bye"`}},
	{"error", ErrorPage{Code: "invalid_request", Message: "error.bad_redirect_uri", Detail: "redirect_uri is not registered"}, http.StatusBadRequest, []string{
		`<code>invalid_request</code>`, `<code>redirect_uri is not registered</code>`, `role="alert"`,
	}},
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// render renders p for a GET of target with the given headers.
func render(t *testing.T, r *Renderer, target string, p Page, status int, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	r.Render(w, req, p, status)
	return w
}

var (
	startTag    = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	quotedValue = regexp.MustCompile(`="[^"]*"`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

// inline returns what a strict CSP would refuse in body, or "": a script
// element without src, a style element, a style or event handler
// attribute. html/template quotes every attribute value and escapes the
// quote and '>' inside, so a tag ends at the first '>' and attribute
// values can be blanked before looking at attribute names.
func inline(body string) string {
	for _, tag := range startTag.FindAllString(body, -1) {
		bare := quotedValue.ReplaceAllString(tag, `=""`)
		name := strings.ToLower(strings.Fields(strings.Trim(bare, "<>"))[0])
		switch {
		case name == "script" && !strings.Contains(bare, " src="):
			return tag
		case name == "style", styleAttr.MatchString(bare), handlerAttr.MatchString(bare):
			return tag
		}
	}
	return ""
}

// leakedKey returns a message key that body shows instead of its text.
func leakedKey(body string, c catalog) string {
	for k := range c {
		if strings.Contains(body, k) {
			return k
		}
	}
	return ""
}

func TestRenderEveryPageInEveryLanguage(t *testing.T) {
	r := newTestRenderer(t)
	cats, err := loadCatalogs(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		for _, l := range languages {
			t.Run(f.name+"/"+l.code, func(t *testing.T) {
				w := render(t, r, "/page?request=req-1&lang="+l.code, f.page, f.status)
				body := w.Body.String()
				if w.Code != f.status {
					t.Errorf("status %d; want %d", w.Code, f.status)
				}
				if !strings.HasPrefix(body, "<!DOCTYPE html>\n<html lang=\""+l.code+"\">") {
					t.Errorf("document does not start with the %s html element: %.80q", l.code, body)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if cl := w.Header().Get("Content-Language"); cl != l.code {
					t.Errorf("Content-Language %q", cl)
				}
				if m := inline(body); m != "" {
					t.Errorf("inline script, style or handler: %s", m)
				}
				if m := leakedKey(body, cats[l.code]); m != "" {
					t.Errorf("message key shown untranslated: %s", m)
				}
				for _, want := range append(f.want, "Yagona", cats[l.code]["site.tagline"], `<link rel="stylesheet" href="/static/style.css?v=`) {
					if !strings.Contains(body, want) {
						t.Errorf("page lacks %s", want)
					}
				}
				if n := strings.Count(body, `rel="stylesheet"`); n != 1 {
					t.Errorf("%d stylesheets; want 1", n)
				}
			})
		}
	}
}

func TestLanguageSwitchKeepsQuery(t *testing.T) {
	r := newTestRenderer(t)
	body := render(t, r, "/login?request=req-1&lang=ru", fixtures[0].page, 200).Body.String()
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

func TestOptionalParts(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name    string
		page    Page
		want    []string
		notWant []string
	}{
		{"login without TLS", LoginPage{Request: "r", AgentURL: "http://127.0.0.1:8765"}, []string{"Log in to continue."}, []string{"/login/tls", `role="alert"`, "<strong>"}},
		{"login with error", LoginPage{Request: "r", Error: "error.certificate_revoked"}, []string{`<p class="alert" role="alert">Your certificate has been revoked or suspended.</p>`}, nil},
		{"consent without name", ConsentPage{Scopes: []string{"profile"}}, []string{"A service asks for access to:", "<li>Your name and date of birth</li>"}, []string{"<strong>"}},
		{"logout without state or name", LogoutPage{CSRF: "c"}, nil, []string{`name="state"`, "<strong>"}},
		{"logged out without return", LoggedOutPage{}, nil, []string{"loggedout.return", "Return to the service"}},
		{"error without code or detail", ErrorPage{Message: "error.server"}, []string{"A temporary server error occurred."}, []string{"<dl", "<code>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := render(t, r, "/?lang=en", tc.page, 200).Body.String()
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("lacks %s", s)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(body, s) {
					t.Errorf("has %s", s)
				}
			}
		})
	}
}

func TestUnknownMessageKeys(t *testing.T) {
	r := newTestRenderer(t)
	cats, _ := loadCatalogs(files)
	for _, key := range []string{"error.no_such_key", "", "login.title", "scope.openid", "{{.}}"} {
		for _, l := range languages {
			want := `<p class="alert" role="alert">` + cats[l.code]["error.bad_request"] + "</p>"
			for _, p := range []Page{ErrorPage{Message: key}, LoginPage{Error: key + "x"}} {
				w := render(t, r, "/?lang="+l.code, p, http.StatusBadRequest)
				if !strings.Contains(w.Body.String(), want) {
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
	tests := []struct {
		name string
		page Page
	}{
		{"login", LoginPage{Request: attr, ClientName: evil, CSRF: attr, AgentURL: attr, TLSLoginURL: "javascript:alert(1)"}},
		{"consent", ConsentPage{Request: attr, ClientName: evil, CSRF: attr, Scopes: []string{evil}}},
		{"logout", LogoutPage{CSRF: attr, ClientName: evil, State: attr, Hidden: map[string]string{attr: evil}}},
		{"loggedout", LoggedOutPage{ReturnURL: "javascript:alert(1)"}},
		{"error", ErrorPage{Code: evil, Message: evil, Detail: evil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := render(t, r, "/?lang=en&x="+`%22%3E%3Cscript%3E`, tc.page, 200).Body.String()
			if m := inline(body); m != "" {
				t.Errorf("hostile value produced %s", m)
			}
			for _, bad := range []string{evil, attr, `href="javascript:`, `"><script>`} {
				if strings.Contains(body, bad) {
					t.Errorf("page holds %s unescaped", bad)
				}
			}
		})
	}
	body := render(t, r, "/", ErrorPage{Detail: evil}, 500).Body.String()
	if !strings.Contains(body, "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>") {
		t.Errorf("detail not escaped into a code element")
	}
}

// TestErrorPageHasNoWayOut checks that the error page links nowhere but
// to itself in another language: its redirect URI may be an attacker's.
func TestErrorPageHasNoWayOut(t *testing.T) {
	r := newTestRenderer(t)
	target := "/oauth2/authorize?client_id=rp1&redirect_uri=https%3A%2F%2Fevil.example%2F"
	body := render(t, r, target, ErrorPage{Code: "invalid_request", Message: "error.bad_redirect_uri", Detail: "https://evil.example/"}, 400).Body.String()
	for _, m := range regexp.MustCompile(`(?i)\s(?:href|action|src)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "?") && !strings.HasPrefix(m[1], "/static/") {
			t.Errorf("error page links to %s", m[1])
		}
	}
	if strings.Contains(body, "<form") {
		t.Error("error page has a form")
	}
}

func TestRenderHead(t *testing.T) {
	r := newTestRenderer(t)
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodHead, "/", nil), LoggedOutPage{}, 0)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
}

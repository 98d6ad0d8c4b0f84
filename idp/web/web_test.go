package web

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func pages() map[string]Page {
	return map[string]Page{
		"login":     LoginPage{Request: "req-1", ClientName: "Soliq", CSRF: "tok", AgentURL: "http://127.0.0.1:8765", TLSLoginURL: "/login/tls?request=req-1"},
		"consent":   ConsentPage{Request: "req-1", ClientName: "Soliq", CSRF: "tok", Scopes: []string{"openid", "pinfl", "custom"}},
		"logout":    LogoutPage{CSRF: "tok", ClientName: "Soliq", State: "s", Hidden: map[string]string{"client_id": "rp1"}},
		"loggedout": LoggedOutPage{ReturnURL: "https://rp.example/"},
		"error":     ErrorPage{Code: "invalid_request", Message: "error.bad_redirect_uri", Detail: "redirect_uri is not registered"},
	}
}

func TestRenderEveryPageEveryLanguage(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	for name, p := range pages() {
		for _, lang := range Languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				w := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/x?lang="+lang, nil)
				r.Render(w, req, p, http.StatusTeapot)
				body := w.Body.String()
				if w.Code != http.StatusTeapot || !strings.Contains(body, `<html lang="`+lang+`">`) {
					t.Fatalf("status %d, body %s", w.Code, body)
				}
				if inline.MatchString(body) {
					t.Fatalf("inline script or style: %s", inline.FindString(body))
				}
				if strings.Contains(body, "error.") || strings.Contains(body, "login.") && name != "login" {
					t.Fatalf("an untranslated key leaked: %s", body)
				}
			})
		}
	}
}

func TestCataloguesAgree(t *testing.T) {
	for _, l := range Languages {
		if len(catalogue[l]) != len(catalogue["uz"]) {
			t.Fatalf("%s has %d messages, uz %d", l, len(catalogue[l]), len(catalogue["uz"]))
		}
		for k := range catalogue["uz"] {
			if catalogue[l][k] == "" {
				t.Errorf("%s lacks %s", l, k)
			}
		}
	}
}

func TestUnknownMessageKey(t *testing.T) {
	r, _ := New()
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodGet, "/?lang=en", nil), ErrorPage{Message: "error.no_such_key"}, 400)
	if !strings.Contains(w.Body.String(), catalogue["en"]["error.bad_request"]) {
		t.Fatalf("unknown key not rendered as bad_request: %s", w.Body.String())
	}
}

func TestEscaping(t *testing.T) {
	r, _ := New()
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodGet, "/", nil), ErrorPage{Code: "x", Message: "error.server", Detail: `<script>alert(1)</script>`}, 500)
	w2 := httptest.NewRecorder()
	r.Render(w2, httptest.NewRequest(http.MethodGet, "/", nil), LoginPage{ClientName: `"><script>alert(1)</script>`, Request: `" onload="x`}, 200)
	for _, b := range []string{w.Body.String(), w2.Body.String()} {
		if strings.Contains(b, "<script>alert") || strings.Contains(b, `" onload="x`) {
			t.Fatalf("hostile text not escaped: %s", b)
		}
	}
}

func TestLang(t *testing.T) {
	tests := []struct {
		query, cookie, accept, want string
	}{
		{"", "", "", "uz"},
		{"lang=ru", "", "en", "ru"},
		{"lang=fr", "", "", "uz"},
		{"", "en", "ru", "en"},
		{"", "xx", "ru-RU,ru;q=0.9,en;q=0.8", "ru"},
		{"", "", "en-GB", "en"},
		{"", "", "fr", "uz"},
		{"", "", "fr;q=1, en;q=0.2, ru;q=0.5", "ru"},
		{"", "", ";;;q=zz,,", "uz"},
		{"", "", "en;q=2", "uz"},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil)
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		if got := Lang(req); got != tc.want {
			t.Errorf("Lang(%q, cookie %q, %q) = %s; want %s", tc.query, tc.cookie, tc.accept, got, tc.want)
		}
	}
	w := httptest.NewRecorder()
	SetLang(w, httptest.NewRequest(http.MethodGet, "/?lang=ru", nil))
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Value != "ru" || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("language cookie: %v", c)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), []string{"http://127.0.0.1:8765"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "connect-src 'self' http://127.0.0.1:8765", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
		if w.Header().Get(k) != v {
			t.Errorf("%s = %q", k, w.Header().Get(k))
		}
	}
}

func TestStatic(t *testing.T) {
	r, _ := New()
	w := httptest.NewRecorder()
	r.Static().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/static/login.js", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") || w.Header().Get("ETag") == "" {
		t.Fatalf("login.js: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	r.Static().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/static/../web.go", nil))
	if w.Code != 404 {
		t.Fatalf("traversal: %d", w.Code)
	}
}

func TestLoginScriptParses(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	if out, err := exec.Command("node", "--check", "static/login.js").CombinedOutput(); err != nil {
		t.Fatalf("node --check: %v\n%s", err, out)
	}
}

package pages

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yagona/yagona/pkg/web"
)

// fixtures are one page of each kind, with the markup each must contain.
var fixtures = []struct {
	name   string
	page   web.Page
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
	{"verify", VerifyPage{Checked: true, Overall: "failed", Signers: []VerifySigner{
		{Outcome: "failed", Reason: "HASH_FAILURE", Name: "Ali Valiyev", PINFL: "12345678901234", ExistedBy: "2026-01-02 03:04:05 UTC", Proven: true},
		{Outcome: "odd", Reason: "NO_SUCH_REASON"},
	}}, http.StatusOK, []string{
		`<form method="post" action="/verify" enctype="multipart/form-data">`, `<p class="outcome failed" id="overall">`,
		`<dd>Ali Valiyev</dd>`, `<dd>12345678901234</dd>`, `<p class="outcome odd">`,
	}},
	{"error", web.ErrorPage{Code: "invalid_request", Message: "error.bad_redirect_uri", Detail: "redirect_uri is not registered"}, http.StatusBadRequest, []string{
		`<code>invalid_request</code>`, `<code>redirect_uri is not registered</code>`, `role="alert"`,
	}},
}

func newTestRenderer(t *testing.T) *web.Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// render renders p for a GET of target.
func render(t *testing.T, r *web.Renderer, target string, p web.Page, status int) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	r.Render(w, httptest.NewRequest(http.MethodGet, target, nil), p, status)
	return w
}

// catalogs are the provider's own catalogues.
func catalogs(t *testing.T) map[string]map[string]string {
	t.Helper()
	cats := map[string]map[string]string{}
	for _, l := range []string{"uz", "ru", "en"} {
		var c map[string]string
		b, err := fs.ReadFile(files, "locales/"+l+".json")
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil {
			t.Fatal(err)
		}
		cats[l] = c
	}
	return cats
}

func TestRenderEveryPageInEveryLanguage(t *testing.T) {
	r := newTestRenderer(t)
	cats := catalogs(t)
	for _, f := range fixtures {
		for l, cat := range cats {
			t.Run(f.name+"/"+l, func(t *testing.T) {
				w := render(t, r, "/page?request=req-1&lang="+l, f.page, f.status)
				body := w.Body.String()
				if w.Code != f.status || w.Header().Get("Content-Language") != l {
					t.Errorf("status %d, language %q", w.Code, w.Header().Get("Content-Language"))
				}
				if m := web.InlineCode(body); m != "" {
					t.Errorf("inline script, style or handler: %s", m)
				}
				for k := range cat {
					if strings.Contains(body, k) {
						t.Errorf("message key shown untranslated: %s", k)
					}
				}
				for _, want := range f.want {
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

func TestOptionalParts(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name    string
		page    web.Page
		want    []string
		notWant []string
	}{
		{"login without TLS", LoginPage{Request: "r", AgentURL: "http://127.0.0.1:8765"}, []string{"Log in to continue."}, []string{"/login/tls", `role="alert"`, "<strong>"}},
		{"login with error", LoginPage{Request: "r", Error: "error.certificate_revoked"}, []string{`<p class="alert" role="alert">Your certificate has been revoked or suspended.</p>`}, nil},
		{"login with unknown error", LoginPage{Request: "r", Error: "login.title"}, []string{`<p class="alert" role="alert">The request is not valid.</p>`}, nil},
		{"consent without name", ConsentPage{Scopes: []string{"profile"}}, []string{"A service asks for access to:", "<li>Your name and date of birth</li>"}, []string{"<strong>"}},
		{"logout without state or name", LogoutPage{CSRF: "c"}, nil, []string{`name="state"`, "<strong>"}},
		{"logged out without return", LoggedOutPage{}, nil, []string{"loggedout.return", "Return to the service"}},
		{"verify before a check", VerifyPage{}, []string{"Check a signature"}, []string{`id="result"`}},
		{"verify outcomes and reasons", fixtures[4].page, []string{
			"The signature is NOT valid.", "The document was changed after it was signed",
			"The signature cannot be confirmed now.", "The signature did not pass a check.", "(a trusted time-stamp proves this)",
		}, nil},
		{"error without code or detail", web.ErrorPage{Message: "error.acr_not_met"}, []string{"a higher level of assurance"}, []string{"<dl", "<code>"}},
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

func TestHostileValuesAreEscaped(t *testing.T) {
	r := newTestRenderer(t)
	const evil = `<script>alert(1)</script>`
	const attr = `" onmouseover="alert(1)`
	tests := []struct {
		name string
		page web.Page
	}{
		{"login", LoginPage{Request: attr, ClientName: evil, CSRF: attr, AgentURL: attr, TLSLoginURL: "javascript:alert(1)"}},
		{"consent", ConsentPage{Request: attr, ClientName: evil, CSRF: attr, Scopes: []string{evil}}},
		{"logout", LogoutPage{CSRF: attr, ClientName: evil, State: attr, Hidden: map[string]string{attr: evil}}},
		{"loggedout", LoggedOutPage{ReturnURL: "javascript:alert(1)"}},
		{"verify", VerifyPage{Checked: true, Overall: attr, Signers: []VerifySigner{{Outcome: attr, Reason: evil, Name: evil, Organization: attr}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := render(t, r, "/?lang=en&x="+`%22%3E%3Cscript%3E`, tc.page, 200).Body.String()
			if m := web.InlineCode(body); m != "" {
				t.Errorf("hostile value produced %s", m)
			}
			for _, bad := range []string{evil, attr, `href="javascript:`, `"><script>`} {
				if strings.Contains(body, bad) {
					t.Errorf("page holds %s unescaped", bad)
				}
			}
		})
	}
}

// TestNewNeedsEveryDescription: the provider's run-time keys (error
// messages, scope descriptions) are required even though no template
// names them.
func TestNewNeedsEveryDescription(t *testing.T) {
	for _, key := range []string{"error.acr_not_met", "scope.email"} {
		m := fstest.MapFS{}
		err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(files, p)
			if strings.HasPrefix(p, "locales/") && err == nil {
				var c map[string]string
				_ = json.Unmarshal(b, &c)
				delete(c, key)
				b, err = json.Marshal(c)
			}
			m[p] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newRenderer(m); err == nil || !strings.Contains(err.Error(), `lacks "`+key+`"`) {
			t.Errorf("without %s: %v", key, err)
		}
	}
}

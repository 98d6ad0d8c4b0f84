package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	const base = "default-src 'none'; script-src 'self' 'nonce-N'; style-src 'self' 'nonce-N'; img-src 'self' data:; connect-src 'self'"
	const rest = "; form-action 'self' https: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'"
	tests := []struct {
		name    string
		origins []string
		csp     string
	}{
		{"no agent", nil, base + rest},
		{"agent", []string{"http://127.0.0.1:8765"}, base + " http://127.0.0.1:8765" + rest},
		{"two agents, trailing slash", []string{"http://127.0.0.1:8765/", "https://Agent.example"}, base + " http://127.0.0.1:8765 https://agent.example" + rest},
		{"injection attempts dropped", []string{
			"http://127.0.0.1:8765; script-src *", "http://a.example/path", "javascript:alert(1)",
			"http://*.example", "http://a'b.example", "127.0.0.1:8765", "", "http://user@a.example",
		}, base + rest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = Nonce(r)
				w.WriteHeader(http.StatusTeapot)
			}), tc.origins)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
			if w.Code != http.StatusTeapot || len(seen) < 22 {
				t.Fatalf("handler not called through, or no nonce: %d %q", w.Code, seen)
			}
			want := map[string]string{
				"Content-Security-Policy":    strings.ReplaceAll(tc.csp, "nonce-N", "nonce-"+seen),
				"X-Frame-Options":            "DENY",
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "no-referrer",
				"Cache-Control":              "no-store",
				"Cross-Origin-Opener-Policy": "same-origin",
			}
			for k, v := range want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q\n want %q", k, got, v)
				}
			}
		})
	}
}

// TestNonceIsFreshAndOnThePage renders the test page, with its inline
// script, twice: each response has its own nonce, the one in its policy
// and on its script element.
func TestNonceIsFreshAndOnThePage(t *testing.T) {
	r := newTestRenderer(t)
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.Render(w, req, helloPage{Script: true}, 0)
	}), nil)
	policyNonce := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9+/_-]+)'; style-src 'self' 'nonce-([A-Za-z0-9+/_-]+)';`)
	seen := map[string]bool{}
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		m := policyNonce.FindStringSubmatch(w.Header().Get("Content-Security-Policy"))
		if m == nil || m[1] != m[2] || seen[m[1]] {
			t.Fatalf("policy %q: no nonce, two nonces, or one seen before", w.Header().Get("Content-Security-Policy"))
		}
		seen[m[1]] = true
		if !strings.Contains(w.Body.String(), `<script nonce="`+m[1]+`">`) {
			t.Errorf("the page's script does not carry the nonce %s", m[1])
		}
	}
	if Nonce(httptest.NewRequest(http.MethodGet, "/", nil)) != "" {
		t.Error("a nonce outside SecurityHeaders")
	}
}

// TestRenderedPagesUnderPolicy renders pages through SecurityHeaders: the
// page keeps the policy's headers and adds its own.
func TestRenderedPagesUnderPolicy(t *testing.T) {
	r := newTestRenderer(t)
	for _, p := range []Page{helloPage{}, ErrorPage{Message: "error.server"}} {
		h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.Render(w, req, p, http.StatusAccepted)
		}), nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("Cache-Control") != "no-store" || w.Code != http.StatusAccepted {
			t.Errorf("%T: %d %v", p, w.Code, w.Header())
		}
	}
}

func TestGuard(t *testing.T) {
	g := NewGuard([]string{"http://127.0.0.1:8765"})
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, method, site string
		h                  http.Handler
		status             int
		csp                bool
	}{
		{"page GET", "GET", "", g.Page(ok), 204, true},
		{"page same-origin POST", "POST", "same-origin", g.Page(ok), 204, true},
		{"page cross-site POST", "POST", "cross-site", g.Page(ok), 403, true},
		{"page cross-site GET", "GET", "cross-site", g.Page(ok), 204, true},
		{"script same-origin POST", "POST", "same-origin", g.Script(ok), 204, false},
		{"script cross-site POST", "POST", "cross-site", g.Script(ok), 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/", nil)
			if tc.site != "" {
				req.Header.Set("Sec-Fetch-Site", tc.site)
			}
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, req)
			csp := w.Header().Get("Content-Security-Policy")
			if w.Code != tc.status || (csp != "") != tc.csp || (tc.csp && !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:8765;")) {
				t.Errorf("%d, policy %q", w.Code, csp)
			}
		})
	}
}

// FuzzSourceOrigin: whatever the configured origin, what goes into the
// policy is one plain http(s) host source, never anything that could end
// the directive or add a source.
func FuzzSourceOrigin(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8765", "https://Agent.example/", "http://127.0.0.1:8765; script-src *", "javascript:alert(1)", "http://[::1]:8765", "http://a b"} {
		f.Add(s)
	}
	plain := regexp.MustCompile(`^https?://[a-z0-9.:-]+$`)
	f.Fuzz(func(t *testing.T, o string) {
		s, ok := sourceOrigin(o)
		if ok != (s != "") || (ok && !plain.MatchString(s)) {
			t.Fatalf("sourceOrigin(%q) = %q, %v", o, s, ok)
		}
	})
}

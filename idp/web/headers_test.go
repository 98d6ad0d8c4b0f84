package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	const base = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
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
			called := false
			h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				called = true
				w.WriteHeader(http.StatusTeapot)
			}), tc.origins)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
			if !called || w.Code != http.StatusTeapot {
				t.Fatalf("handler not called through: %d", w.Code)
			}
			want := map[string]string{
				"Content-Security-Policy":    tc.csp,
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

// TestRenderedPagesUnderPolicy renders every page through SecurityHeaders:
// the page keeps the policy's headers and adds its own.
func TestRenderedPagesUnderPolicy(t *testing.T) {
	r := newTestRenderer(t)
	for _, f := range fixtures {
		h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.Render(w, req, f.page, f.status)
		}), []string{"http://127.0.0.1:8765"})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("Cache-Control") != "no-store" || w.Code != f.status {
			t.Errorf("%s: %d %v", f.name, w.Code, w.Header())
		}
	}
}

package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	r := newTestRenderer(t)
	js := (*r.assets)["hello.js"]
	tests := []struct {
		name, method, target, inm string
		status                    int
		ctype, cache              string
	}{
		{"script", "GET", "/static/hello.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"versioned script", "GET", "/static/hello.js?v=" + js.version, "", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"old version", "GET", "/static/hello.js?v=0123456789abcdef", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"shared stylesheet", "GET", "/static/style.css", "", 200, "text/css; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"shared logo", "GET", "/static/logo.svg", "", 200, "image/svg+xml", "public, max-age=0, must-revalidate"},
		{"HEAD", "HEAD", "/static/hello.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"not modified", "GET", "/static/hello.js", js.etag, 304, "", ""},
		{"stale ETag", "GET", "/static/hello.js", `"0000"`, 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"unknown file", "GET", "/static/nope.js", "", 404, "", ""},
		{"directory", "GET", "/static/", "", 404, "", ""},
		{"traversal", "GET", "/static/../web.go", "", 404, "", ""},
		{"encoded traversal", "GET", "/static/..%2fweb.go", "", 404, "", ""},
		{"template", "GET", "/static/templates/base.html", "", 404, "", ""},
		{"POST", "POST", "/static/hello.js", "", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.inm != "" {
				req.Header.Set("If-None-Match", tc.inm)
			}
			w := httptest.NewRecorder()
			r.Static().ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d; want %d", w.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			h := w.Header()
			if h.Get("Content-Type") != tc.ctype || h.Get("Cache-Control") != tc.cache ||
				!strings.HasPrefix(h.Get("ETag"), `"`) || len(h.Get("ETag")) != 34 || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
			if tc.method == "GET" && w.Body.Len() == 0 {
				t.Error("empty body")
			}
		})
	}
	// Behind http.StripPrefix the names arrive without the prefix.
	w := httptest.NewRecorder()
	http.StripPrefix("/static/", r.Static()).ServeHTTP(w, httptest.NewRequest("GET", "/static/style.css", nil))
	if w.Code != 200 {
		t.Errorf("behind StripPrefix: %d", w.Code)
	}
}

// TestPagesReferenceServedAssets follows every /static/ URL of every page.
func TestPagesReferenceServedAssets(t *testing.T) {
	r := newTestRenderer(t)
	ref := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	for _, p := range []Page{helloPage{}, ErrorPage{}} {
		body := render(t, r, "/", p, 200).Body.String()
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			w := httptest.NewRecorder()
			r.Static().ServeHTTP(w, httptest.NewRequest("GET", m[1], nil))
			if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Errorf("%T: %s: %d %q", p, m[1], w.Code, w.Header().Get("Cache-Control"))
			}
		}
	}
}

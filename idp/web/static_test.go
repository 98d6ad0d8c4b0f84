package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestStatic(t *testing.T) {
	r := newTestRenderer(t)
	js := (*r.assets)["login.js"]
	tests := []struct {
		name, method, target, inm string
		status                    int
		ctype, cache              string
	}{
		{"script", "GET", "/static/login.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"versioned script", "GET", "/static/login.js?v=" + js.version, "", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"old version", "GET", "/static/login.js?v=0123456789abcdef", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"stylesheet", "GET", "/static/style.css", "", 200, "text/css; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"logo", "GET", "/static/logo.svg", "", 200, "image/svg+xml", "public, max-age=0, must-revalidate"},
		{"HEAD", "HEAD", "/static/login.js", "", 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"not modified", "GET", "/static/login.js", js.etag, 304, "", ""},
		{"stale ETag", "GET", "/static/login.js", `"0000"`, 200, "text/javascript; charset=utf-8", "public, max-age=0, must-revalidate"},
		{"unknown file", "GET", "/static/nope.js", "", 404, "", ""},
		{"directory", "GET", "/static/", "", 404, "", ""},
		{"traversal", "GET", "/static/../web.go", "", 404, "", ""},
		{"encoded traversal", "GET", "/static/..%2fweb.go", "", 404, "", ""},
		{"template", "GET", "/static/templates/base.html", "", 404, "", ""},
		{"POST", "POST", "/static/login.js", "", 405, "", ""},
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
	for _, f := range fixtures {
		body := render(t, r, "/", f.page, 200).Body.String()
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			w := httptest.NewRecorder()
			r.Static().ServeHTTP(w, httptest.NewRequest("GET", m[1], nil))
			if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
				t.Errorf("%s: %s: %d %q", f.name, m[1], w.Code, w.Header().Get("Cache-Control"))
			}
		}
	}
}

// TestLoginScriptMatchesPage checks that every data-msg-* string login.js
// reads is on the login page, and the script logs nothing.
func TestLoginScriptMatchesPage(t *testing.T) {
	r := newTestRenderer(t)
	js := string((*r.assets)["login.js"].body)
	page := render(t, r, "/", fixtures[0].page, 200).Body.String()
	uses := regexp.MustCompile(`data\.(msg[A-Za-z]+|request|agent)\b`).FindAllStringSubmatch(js, -1)
	if len(uses) < 10 {
		t.Fatalf("only %d data attributes found in login.js", len(uses))
	}
	for _, u := range uses {
		attr := "data-" + regexp.MustCompile(`[A-Z]`).ReplaceAllStringFunc(u[1], func(s string) string { return "-" + strings.ToLower(s) })
		if !strings.Contains(page, " "+attr+`="`) && !strings.Contains(page, "\n  "+attr+`="`) {
			t.Errorf("login.js reads %s, which the page lacks", attr)
		}
	}
	for _, id := range []string{"login", "keys", "sign", "status"} {
		if !strings.Contains(js, "'"+id+"'") || !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("element #%s not shared by page and script", id)
		}
	}
	for _, bad := range []string{"console.", "innerHTML", "eval(", "new Function", "localStorage", "?.", "??"} {
		if strings.Contains(js, bad) {
			t.Errorf("login.js uses %s", bad)
		}
	}
}

func TestLoginScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("static/login.js"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, "--check", "static/login.js").CombinedOutput(); err != nil {
		t.Fatalf("node --check static/login.js: %v\n%s", err, out)
	}
}

// TestLoginScriptFlow runs login.js under node against a fake DOM, agent
// and provider (testdata/login_flow.js), with the data- attributes of the
// rendered login page.
func TestLoginScriptFlow(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	r := newTestRenderer(t)
	page := render(t, r, "/?lang=uz", fixtures[0].page, 200).Body.String()
	start := strings.Index(page, `<main id="login"`)
	end := strings.Index(page[start:], ">")
	attrs := map[string]string{}
	for _, m := range regexp.MustCompile(`data-([a-z-]+)="([^"]*)"`).FindAllStringSubmatch(page[start:start+end], -1) {
		name := regexp.MustCompile(`-[a-z]`).ReplaceAllStringFunc(m[1], func(s string) string { return strings.ToUpper(s[1:]) })
		attrs[name] = html.UnescapeString(m[2])
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "attrs.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "testdata/login_flow.js", "static/login.js", f).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("login flow: %v", err)
	}
}

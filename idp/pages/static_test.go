package pages

import (
	"encoding/json"
	"html"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLoginScriptIsServed follows the login page's script URL.
func TestLoginScriptIsServed(t *testing.T) {
	r := newTestRenderer(t)
	body := render(t, r, "/", fixtures[0].page, 200).Body.String()
	src := regexp.MustCompile(`<script src="(/static/login\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
	if src == nil {
		t.Fatal("no login.js on the login page")
	}
	w := httptest.NewRecorder()
	r.Static().ServeHTTP(w, httptest.NewRequest("GET", src[1], nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || w.Body.Len() == 0 {
		t.Errorf("%s: %d %v", src[1], w.Code, w.Header())
	}
}

// TestLoginScriptMatchesPage checks that every data-msg-* string login.js
// reads is on the login page, and the script logs nothing.
func TestLoginScriptMatchesPage(t *testing.T) {
	r := newTestRenderer(t)
	b, err := fs.ReadFile(files, "static/login.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
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

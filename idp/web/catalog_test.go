package web

import (
	"encoding/json"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	cats, err := loadCatalogs(files)
	if err != nil {
		t.Fatal(err)
	}
	ref := slices.Sorted(maps.Keys(cats[defaultLang]))
	for _, l := range languages {
		if got := slices.Sorted(maps.Keys(cats[l.code])); !slices.Equal(got, ref) {
			t.Errorf("catalogue %s keys differ from %s:\n%v\n%v", l.code, defaultLang, got, ref)
		}
	}
	for _, k := range errorKeys {
		if _, ok := cats[defaultLang][k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}

// TestUzbekIsLatin checks the Uzbek catalogue is in Latin script and uses
// the modifier letters of the official orthography, not look-alike quotes.
func TestUzbekIsLatin(t *testing.T) {
	cats, _ := loadCatalogs(files)
	for k, v := range cats["uz"] {
		for _, r := range v {
			if r >= 0x0400 && r <= 0x04FF {
				t.Errorf("%s: Cyrillic letter %q in %q", k, r, v)
				break
			}
		}
		for _, bad := range []string{"o'", "g'", "o‘", "g‘", "o`", "g`"} {
			if strings.Contains(strings.ToLower(v), bad) {
				t.Errorf("%s: %q should be written with ʻ (U+02BB): %q", k, bad, v)
			}
		}
	}
}

// edit returns a copy of the embedded files changed by fn.
func edit(t *testing.T, fn func(m fstest.MapFS)) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fn(m)
	return m
}

// editCatalog changes the catalogue of lang in m.
func editCatalog(t *testing.T, m fstest.MapFS, lang string, fn func(c catalog)) {
	t.Helper()
	p := "locales/" + lang + ".json"
	var c catalog
	if err := json.Unmarshal(m[p].Data, &c); err != nil {
		t.Fatal(err)
	}
	fn(c)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	m[p] = &fstest.MapFile{Data: b}
}

func editTemplate(m fstest.MapFS, name, old, new string) {
	p := "templates/" + name + ".html"
	m[p] = &fstest.MapFile{Data: []byte(strings.Replace(string(m[p].Data), old, new, 1))}
}

func TestNewRefusesBrokenCatalogs(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, m fstest.MapFS)
		want []string
	}{
		{"key missing in one language", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", func(c catalog) { delete(c, "consent.deny") })
		}, []string{`catalogue ru lacks "consent.deny"`}},
		{"every problem reported", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", func(c catalog) { delete(c, "consent.deny") })
			editCatalog(t, m, "en", func(c catalog) { delete(c, "login.title") })
		}, []string{`catalogue ru lacks "consent.deny"`, `catalogue en lacks "login.title"`}},
		{"key only in one language", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", func(c catalog) { c["login.extra"] = "Extra" })
		}, []string{`catalogue uz lacks "login.extra"`, `catalogue ru lacks "login.extra"`}},
		{"error key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			for _, l := range languages {
				editCatalog(t, m, l.code, func(c catalog) { delete(c, "error.csrf") })
			}
		}, []string{`catalogue uz lacks "error.csrf"`}},
		{"scope description missing everywhere", func(t *testing.T, m fstest.MapFS) {
			for _, l := range languages {
				editCatalog(t, m, l.code, func(c catalog) { delete(c, "scope.email") })
			}
		}, []string{`catalogue en lacks "scope.email"`}},
		{"template key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, "error", `{{t "errorpage.hint"}}`, `{{t "errorpage.hint"}} {{t "errorpage.new"}}`)
		}, []string{`catalogue uz lacks "errorpage.new"`}},
		{"fill key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, "logout", `"logout.from_client"`, `"logout.from_service"`)
		}, []string{`lacks "logout.from_service"`}},
		{"dynamic key in template", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, "error", `{{t "errorpage.hint"}}`, `{{t .Code}}`)
		}, []string{"t needs a constant string"}},
		{"empty text", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "uz", func(c catalog) { c["consent.allow"] = " " })
		}, []string{`catalogue uz: "consent.allow" is empty`}},
		{"placeholder lost", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", func(c catalog) { c["login.intro"] = "Сервис просит вас войти." })
		}, []string{`catalogue ru: "login.intro" has placeholder ""`}},
		{"placeholder renamed", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", func(c catalog) { c["login.keys.valid_until"] = "valid until {day}" })
		}, []string{`"login.keys.valid_until" has placeholder "{day}"`}},
		{"two placeholders", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", func(c catalog) { c["login.intro"] = "{client} {client}" })
		}, []string{`"login.intro" has more than one placeholder`}},
		{"malformed catalogue", func(t *testing.T, m fstest.MapFS) {
			m["locales/ru.json"] = &fstest.MapFile{Data: []byte(`{"a": `)}
		}, []string{"catalogue ru"}},
		{"missing catalogue", func(t *testing.T, m fstest.MapFS) {
			delete(m, "locales/en.json")
		}, []string{"catalogue en"}},
		{"unknown asset", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, "login", `{{asset "login.js"}}`, `{{asset "signin.js"}}`)
		}, []string{`no static file "signin.js"`}},
		{"unservable static file", func(t *testing.T, m fstest.MapFS) {
			m["static/notes.txt"] = &fstest.MapFile{Data: []byte("x")}
		}, []string{"notes.txt is not a .js, .css or .svg file"}},
		{"template syntax", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, "consent", `{{end}}{{end}}`, `{{end}}`)
		}, []string{"consent.html"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newRenderer(edit(t, func(m fstest.MapFS) { tc.edit(t, m) }))
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n lacks %q", err, w)
				}
			}
		})
	}
	if _, err := newRenderer(edit(t, func(fstest.MapFS) {})); err != nil {
		t.Fatalf("the unchanged files are refused: %v", err)
	}
}

func TestInlineDetector(t *testing.T) {
	tests := []struct {
		html string
		bad  bool
	}{
		{`<script src="/static/login.js?v=1" defer></script>`, false},
		{`<script>alert(1)</script>`, true},
		{`<SCRIPT type="module">x</SCRIPT>`, true},
		{`<p style="color:red">x</p>`, true},
		{`<a href="#" onclick="x()">x</a>`, true},
		{`<img src="x" ONERROR = "x()">`, true},
		{`<style>p{}</style>`, true},
		{`<p title="onclick=x style=y">x</p>`, false},
		{`<p>onclick= is just text</p>`, false},
	}
	for _, tc := range tests {
		if got := inline(tc.html) != ""; got != tc.bad {
			t.Errorf("inline(%q) found something: %v; want %v", tc.html, got, tc.bad)
		}
	}
}

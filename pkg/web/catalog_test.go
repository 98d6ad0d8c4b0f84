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

func TestSharedCatalogsHaveTheSameKeys(t *testing.T) {
	cats := map[string]catalog{}
	for _, l := range languages {
		b, err := fs.ReadFile(shared, "locales/"+l.code+".json")
		if err != nil {
			t.Fatal(err)
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		cats[l.code] = c
	}
	ref := slices.Sorted(maps.Keys(cats[defaultLang]))
	for _, l := range languages {
		if got := slices.Sorted(maps.Keys(cats[l.code])); !slices.Equal(got, ref) {
			t.Errorf("catalogue %s keys differ from %s:\n%v\n%v", l.code, defaultLang, got, ref)
		}
	}
	if err := checkCatalogs(cats, []string{fallbackError}); err != nil {
		t.Error(err)
	}
}

// edit returns a copy of the test site's files changed by fn.
func edit(t *testing.T, fn func(m fstest.MapFS)) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(site, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fn(m)
	return m
}

// editCatalog sets (or, with text "", deletes) key in the catalogue of
// lang in m.
func editCatalog(t *testing.T, m fstest.MapFS, lang, key, text string) {
	t.Helper()
	p := "locales/" + lang + ".json"
	var c catalog
	if err := json.Unmarshal(m[p].Data, &c); err != nil {
		t.Fatal(err)
	}
	if text == "" {
		delete(c, key)
	} else {
		c[key] = text
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	m[p] = &fstest.MapFile{Data: b}
}

func editTemplate(m fstest.MapFS, old, new string) {
	p := "templates/hello.html"
	m[p] = &fstest.MapFile{Data: []byte(strings.Replace(string(m[p].Data), old, new, 1))}
}

// typoPage names a field helloPage lacks.
type typoPage struct{ Name string }

func (typoPage) Template() string { return "typo" }

func TestNewRefusesBrokenPageSets(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(t *testing.T, m fstest.MapFS)
		pages []Page
		want  []string
	}{
		{"key missing in one language", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", "hello.bye", "")
		}, nil, []string{`catalogue ru lacks "hello.bye"`}},
		{"every problem reported", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", "hello.bye", "")
			editCatalog(t, m, "en", "hello.title", "")
		}, nil, []string{`catalogue ru lacks "hello.bye"`, `catalogue en lacks "hello.title"`}},
		{"key only in one language", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", "hello.extra", "Extra")
		}, nil, []string{`catalogue uz lacks "hello.extra"`, `catalogue ru lacks "hello.extra"`}},
		{"required key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			for _, l := range languages {
				editCatalog(t, m, l.code, "error.no_fruit", "")
			}
		}, nil, []string{`catalogue uz lacks "error.no_fruit"`}},
		{"shared key replaced in one language only", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", "error.server", "Our fault.")
		}, nil, nil},
		{"template key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `{{t "hello.bye"}}`, `{{t "hello.bye"}} {{t "hello.new"}}`)
		}, nil, []string{`catalogue uz lacks "hello.new"`}},
		{"fill key missing everywhere", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `"hello.greeting"`, `"hello.welcome"`)
		}, nil, []string{`lacks "hello.welcome"`}},
		{"dynamic key in template", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `{{t "hello.bye"}}`, `{{t .Name}}`)
		}, nil, []string{"t needs a constant string"}},
		{"dynamic prefix for opt", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `opt "fruit." .`, `opt . "x"`)
		}, nil, []string{"opt needs a constant string"}},
		{"empty text", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "uz", "hello.bye", " ")
		}, nil, []string{`catalogue uz: "hello.bye" is empty`}},
		{"placeholder lost", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "ru", "hello.greeting", "Добро пожаловать!")
		}, nil, []string{`catalogue ru: "hello.greeting" has placeholder ""`}},
		{"placeholder renamed", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", "hello.greeting", "Welcome, {person}!")
		}, nil, []string{`"hello.greeting" has placeholder "{person}"`}},
		{"two placeholders", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "en", "hello.greeting", "{name} {name}")
		}, nil, []string{`"hello.greeting" has more than one placeholder`}},
		{"Cyrillic in Uzbek", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "uz", "hello.bye", "Хайр")
		}, nil, []string{`catalogue uz: "hello.bye" is not in the Latin alphabet`}},
		{"apostrophe for ʻ in Uzbek", func(t *testing.T, m fstest.MapFS) {
			editCatalog(t, m, "uz", "error.no_fruit", "Bunday meva yo'q.")
		}, nil, []string{`catalogue uz: "error.no_fruit" is not in the Latin alphabet`}},
		{"malformed catalogue", func(t *testing.T, m fstest.MapFS) {
			m["locales/ru.json"] = &fstest.MapFile{Data: []byte(`{"a": `)}
		}, nil, []string{"catalogue ru"}},
		{"missing catalogue", func(t *testing.T, m fstest.MapFS) {
			delete(m, "locales/en.json")
		}, nil, []string{"catalogue en"}},
		{"unknown asset", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `{{asset "hello.js"}}`, `{{asset "bye.js"}}`)
		}, nil, []string{`no static file "bye.js"`}},
		{"unservable static file", func(t *testing.T, m fstest.MapFS) {
			m["static/notes.txt"] = &fstest.MapFile{Data: []byte("x")}
		}, nil, []string{"notes.txt is not a .js, .css or .svg file"}},
		{"static file named as a shared one", func(t *testing.T, m fstest.MapFS) {
			m["static/style.css"] = &fstest.MapFile{Data: []byte("p{}")}
		}, nil, []string{"style.css is a shared file"}},
		{"template syntax", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `{{end}}{{end}}`, `{{end}}`)
		}, nil, []string{"hello.html"}},
		{"inline script without nonce", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `<h1>`, `<script>alert(1)</script><h1>`)
		}, nil, []string{"inline code without a nonce: <script>"}},
		{"event handler", func(t *testing.T, m fstest.MapFS) {
			editTemplate(m, `<h1>`, `<h1 onclick="x()">`)
		}, nil, []string{"inline code without a nonce"}},
		{"template missing", func(*testing.T, fstest.MapFS) {}, []Page{notPage{}}, []string{"nowhere.html"}},
		{"field the page lacks", func(t *testing.T, m fstest.MapFS) {
			m["templates/typo.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}x{{end}}{{define "main"}}{{.Page.Nmae}}{{end}}`)}
		}, []Page{typoPage{}}, []string{"Nmae"}},
		{"library's page", func(*testing.T, fstest.MapFS) {}, []Page{ErrorPage{}}, []string{`template "error" is the library's own`}},
		{"page twice", func(*testing.T, fstest.MapFS) {}, []Page{helloPage{}, helloPage{}}, []string{`template "hello" is named twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := siteConfig()
			cfg.Files = edit(t, func(m fstest.MapFS) { tc.edit(t, m) })
			cfg.Pages = append(cfg.Pages, tc.pages...)
			_, err := New(cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
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
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted no files")
	}
}

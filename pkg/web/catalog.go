package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
)

// language is one the pages are written in; name is its own name for it,
// shown in the language switch.
type language struct{ code, name string }

// languages lists the supported languages, the default first.
var languages = []language{{"uz", "Oʻzbekcha"}, {"ru", "Русский"}, {"en", "English"}}

const defaultLang = "uz"

// fallbackError is shown for a message key the catalogue does not know.
const fallbackError = "error.bad_request"

// catalog maps message keys to text in one language. A text may hold one
// placeholder in braces ("{client}") that the page fills in.
type catalog map[string]string

// loadCatalogs reads locales/<code>.json of every language from shared,
// then from files, whose entries replace shared ones of the same key.
func loadCatalogs(files fs.FS) (map[string]catalog, error) {
	cats := map[string]catalog{}
	var errs []error
	for _, l := range languages {
		c := catalog{}
		for _, fsys := range []fs.FS{shared, files} {
			b, err := fs.ReadFile(fsys, "locales/"+l.code+".json")
			if err == nil {
				err = json.Unmarshal(b, &c)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("web: catalogue %s: %w", l.code, err))
			}
		}
		cats[l.code] = c
	}
	return cats, errors.Join(errs...)
}

// checkCatalogs reports, all at once, every key that some catalogue or
// the list used names but a catalogue lacks, every empty text, every text
// whose placeholders differ from the default language's, and every
// Uzbek text not written in the Latin alphabet.
func checkCatalogs(cats map[string]catalog, used []string) error {
	want := map[string]bool{}
	for _, c := range cats {
		for k := range c {
			want[k] = true
		}
	}
	for _, k := range used {
		want[k] = true
	}
	ref := cats[defaultLang]
	var errs []error
	for _, l := range languages {
		c := cats[l.code]
		for _, k := range slices.Sorted(maps.Keys(want)) {
			text, ok := c[k]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("web: catalogue %s lacks %q", l.code, k))
			case strings.TrimSpace(text) == "":
				errs = append(errs, fmt.Errorf("web: catalogue %s: %q is empty", l.code, k))
			case len(placeholder.FindAllString(text, -1)) > 1:
				errs = append(errs, fmt.Errorf("web: catalogue %s: %q has more than one placeholder", l.code, k))
			case placeholder.FindString(text) != placeholder.FindString(ref[k]):
				errs = append(errs, fmt.Errorf("web: catalogue %s: %q has placeholder %q, %s has %q",
					l.code, k, placeholder.FindString(text), defaultLang, placeholder.FindString(ref[k])))
			case l.code == "uz" && !uzbekLatin(text):
				errs = append(errs, fmt.Errorf("web: catalogue uz: %q is not in the Latin alphabet with ʻ (U+02BB): %q", k, text))
			}
		}
	}
	return errors.Join(errs...)
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// uzbekLatin reports whether s is written in the Uzbek Latin alphabet:
// no Cyrillic letter, and oʻ and gʻ with the modifier letter ʻ (U+02BB)
// of the official orthography, not a look-alike quote.
func uzbekLatin(s string) bool {
	for _, r := range s {
		if r >= 0x0400 && r <= 0x04FF {
			return false
		}
	}
	lower := strings.ToLower(s)
	for _, bad := range []string{"o'", "g'", "o‘", "g‘", "o`", "g`"} {
		if strings.Contains(lower, bad) {
			return false
		}
	}
	return true
}

// funcs are the template functions for one language.
func funcs(c catalog, a *assets) template.FuncMap {
	return template.FuncMap{
		"t":     c.text,
		"msg":   c.message,
		"fill":  c.fill,
		"opt":   c.optional,
		"asset": a.url,
	}
}

// text is a fixed message; New has checked that every key a template
// names exists.
func (c catalog) text(key string) string { return c[key] }

// message is a caller-supplied error message key: anything but a known
// "error." key shows error.bad_request.
func (c catalog) message(key string) string {
	if s, ok := c[key]; ok && strings.HasPrefix(key, "error.") {
		return s
	}
	return c[fallbackError]
}

// optional is the message prefix+name, or "" if the catalogue has none:
// for names known at run time that may have a description, such as the
// scopes a consent page lists.
func (c catalog) optional(prefix, name string) string { return c[prefix+name] }

// part is a piece of a message: literal text, or the value filled into its
// placeholder (Arg), which the template may emphasise. Both are escaped by
// html/template like any other string.
type part struct {
	Text string
	Arg  bool
}

// fill splits the message key around its placeholder, putting value in.
func (c catalog) fill(key, value string) []part {
	text := c[key]
	loc := placeholder.FindStringIndex(text)
	if loc == nil {
		return []part{{Text: text}}
	}
	return []part{{Text: text[:loc[0]]}, {Text: value, Arg: true}, {Text: text[loc[1]:]}}
}

// constArgs returns, for every call of one of the named functions in the
// parsed templates, its first argument, which must be a string constant:
// the keys given to t and fill, the prefixes given to opt, the files
// given to asset.
func constArgs(t *template.Template, names ...string) ([]string, error) {
	var out []string
	var errs []error
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && slices.Contains(names, id.Ident) {
				if s, ok := argString(n); ok {
					out = append(out, s)
				} else {
					errs = append(errs, fmt.Errorf("web: template %s: %s needs a constant string: %s", t.Name(), id.Ident, n))
				}
			}
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walk(tt.Tree.Root)
		}
	}
	return out, errors.Join(errs...)
}

func argString(n *parse.CommandNode) (string, bool) {
	if len(n.Args) < 2 {
		return "", false
	}
	s, ok := n.Args[1].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}

// Languages returns the codes of the supported languages, the default
// first.
func Languages() []string {
	out := make([]string, len(languages))
	for i, l := range languages {
		out[i] = l.code
	}
	return out
}

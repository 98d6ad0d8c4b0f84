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

// errorKeys are the message keys callers pass as ErrorPage.Message and
// LoginPage.Error. Every catalogue must have them even if no template
// names them.
var errorKeys = []string{
	"error.unknown_client", "error.bad_redirect_uri", "error.request_expired",
	"error.bad_request", "error.server", "error.login_failed",
	"error.certificate_revoked", "error.certificate_expired",
	"error.certificate_untrusted", "error.agent_unreachable", "error.csrf",
	"error.rate_limited", "error.acr_not_met",
}

// describedScopes are the scopes the consent page describes; others are
// shown by name. Each needs a "scope.<name>" message.
var describedScopes = []string{
	"openid", "profile", "pinfl", "organization", "email", "phone",
	"offline_access", "ca:officer", "ca:admin", "clients:admin", "decisions",
}

// catalog maps message keys to text in one language. A text may hold one
// placeholder in braces ("{client}") that the page fills in.
type catalog map[string]string

// loadCatalogs reads locales/<code>.json for every language.
func loadCatalogs(fsys fs.FS) (map[string]catalog, error) {
	cats := map[string]catalog{}
	var errs []error
	for _, l := range languages {
		b, err := fs.ReadFile(fsys, "locales/"+l.code+".json")
		if err != nil {
			errs = append(errs, fmt.Errorf("web: catalogue %s: %w", l.code, err))
			continue
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			errs = append(errs, fmt.Errorf("web: catalogue %s: %w", l.code, err))
			continue
		}
		cats[l.code] = c
	}
	return cats, errors.Join(errs...)
}

// checkCatalogs reports, all at once, every key that some catalogue, a
// template (used) or the required lists name but a catalogue lacks, every
// empty text, and every text whose placeholders differ from the default
// language's.
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
	for _, k := range errorKeys {
		want[k] = true
	}
	for _, s := range describedScopes {
		want["scope."+s] = true
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
			}
		}
	}
	return errors.Join(errs...)
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// funcs are the template functions for one language.
func funcs(c catalog, a *assets) template.FuncMap {
	return template.FuncMap{
		"t":     c.text,
		"msg":   c.message,
		"fill":  c.fill,
		"scope": c.scope,
		"outcome": func(o string) string {
			if v, ok := c["verify.outcome."+o]; ok {
				return v
			}
			return c["verify.outcome.indeterminate"]
		},
		"reason": func(sub string) string {
			if v, ok := c["verify.reason."+sub]; ok {
				return v
			}
			return c["verify.reason.other"]
		},
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

// scopeLine is a scope as the consent page lists it.
type scopeLine struct {
	Name, Text string
	Known      bool
}

func (c catalog) scope(name string) scopeLine {
	if s, ok := c["scope."+name]; ok {
		return scopeLine{Name: name, Text: s, Known: true}
	}
	return scopeLine{Name: name}
}

// constArgs returns, for every call of one of the named functions in the
// parsed templates, its first argument, which must be a string constant:
// the keys given to t and fill, the files given to asset.
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

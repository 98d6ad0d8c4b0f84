package web

import (
	"regexp"
	"strings"
)

var (
	startTag    = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	quotedValue = regexp.MustCompile(`="[^"]*"`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	nonceAttr   = regexp.MustCompile(`(?i)\snonce\s*=`)
)

// InlineCode returns the first start tag in the HTML document body that
// SecurityHeaders' policy refuses, or "": a script element with neither a
// src nor a nonce, a style element without a nonce, a style attribute or
// an event handler attribute (which no nonce can allow). New checks every
// page with it; a service's tests may check their rendered pages too.
//
// It reads documents that html/template wrote, which quotes every
// attribute value and escapes the quote and '>' inside: so a tag ends at
// the first '>', and attribute values can be blanked before looking at
// attribute names.
func InlineCode(body string) string {
	for _, tag := range startTag.FindAllString(body, -1) {
		bare := quotedValue.ReplaceAllString(tag, `=""`)
		name := strings.ToLower(strings.Fields(strings.Trim(bare, "<>/"))[0])
		nonce := nonceAttr.MatchString(bare)
		switch {
		case name == "script" && !nonce && !strings.Contains(bare, " src="):
			return tag
		case name == "style" && !nonce, styleAttr.MatchString(bare), handlerAttr.MatchString(bare):
			return tag
		}
	}
	return ""
}

package web

import (
	"net/http"
	"strings"
)

// LangCookie is the cookie that remembers the chosen language.
const LangCookie = "yagona_lang"

// Limits on the Accept-Language header: a longer header or the ranges
// past the first few are ignored rather than parsed.
const (
	maxAcceptLanguage = 1024
	maxLanguageRanges = 32
)

func supported(code string) bool {
	for _, l := range languages {
		if l.code == code {
			return true
		}
	}
	return false
}

// Lang returns the language to answer req in, "uz", "ru" or "en": a valid
// ?lang= parameter, else a valid yagona_lang cookie, else the best match of
// the Accept-Language header, else "uz".
func Lang(req *http.Request) string {
	if l := req.URL.Query().Get("lang"); supported(l) {
		return l
	}
	if c, err := req.Cookie(LangCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	if l := acceptLanguage(req.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return defaultLang
}

// SetLang remembers a valid ?lang= parameter in the yagona_lang cookie for
// a year; it does nothing otherwise. Call it before writing the response.
func SetLang(w http.ResponseWriter, req *http.Request) {
	l := req.URL.Query().Get("lang")
	if !supported(l) {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 60 * 60,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// acceptLanguage returns the supported language the Accept-Language value
// h prefers (RFC 9110 §12.5.4), or "" if none. A range matches by its
// primary subtag, so "ru-RU" is ru and "uz-Cyrl" is uz (served in Latin
// script); "*" is the default language. Of equal weights the first wins,
// q=0 refuses a range, and malformed ranges are skipped.
func acceptLanguage(h string) string {
	if len(h) > maxAcceptLanguage {
		return ""
	}
	best, bestQ := "", 0
	for i, item := range strings.Split(h, ",") {
		if i == maxLanguageRanges {
			break
		}
		tag, q, ok := languageRange(item)
		if !ok {
			continue
		}
		code, _, _ := strings.Cut(tag, "-")
		if tag == "*" {
			code = defaultLang
		}
		if supported(code) && q > bestQ {
			best, bestQ = code, q
		}
	}
	return best
}

// languageRange parses one element of Accept-Language: a language range
// (RFC 4647 §2.1), lower-cased, and its weight in thousandths.
func languageRange(s string) (tag string, q int, ok bool) {
	tag, params, hasParams := strings.Cut(s, ";")
	tag = strings.ToLower(strings.TrimSpace(tag))
	if !validRange(tag) {
		return "", 0, false
	}
	if !hasParams {
		return tag, 1000, true
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
	if !ok {
		v, ok = strings.CutPrefix(strings.TrimSpace(params), "Q=")
	}
	if !ok {
		return "", 0, false
	}
	q, ok = qvalue(v)
	return tag, q, ok
}

// validRange reports whether s is "*" or 1*8ALPHA *("-" 1*8alphanum).
func validRange(s string) bool {
	if s == "*" {
		return true
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for _, c := range []byte(sub) {
			alpha := c >= 'a' && c <= 'z'
			if !alpha && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// qvalue parses a weight (RFC 9110 §12.4.2): "0" or "1", optionally
// followed by a point and up to three digits, at most 1. It returns
// thousandths.
func qvalue(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	n := int(s[0]-'0') * 1000
	if len(s) > 1 {
		if s[1] != '.' {
			return 0, false
		}
		scale := 100
		for _, c := range []byte(s[2:]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			n += int(c-'0') * scale
			scale /= 10
		}
	}
	if n > 1000 {
		return 0, false
	}
	return n, true
}

// langLink is an entry of the language switch: the current URL with lang
// set, so the person stays on the same step.
type langLink struct {
	Code, Name, Href string
	Current          bool
}

func langLinks(req *http.Request, current string) []langLink {
	links := make([]langLink, 0, len(languages))
	for _, l := range languages {
		q := req.URL.Query()
		q.Set("lang", l.code)
		links = append(links, langLink{Code: l.code, Name: l.name, Href: "?" + q.Encode(), Current: l.code == current})
	}
	return links
}

package web

import (
	"net/http"
	"net/url"
	"strings"
)

// SecurityHeaders wraps the handlers of HTML pages. On every response it
// sets a Content-Security-Policy that allows only this origin's scripts,
// styles and images and, for the login page's script, connections to
// this origin and to agentOrigins (the local signing agent, e.g.
// "http://127.0.0.1:8765"); it forbids framing, MIME sniffing, referrers
// and caching, and isolates the browsing context. Origins that are not
// plain http(s) origins are left out, so a bad configuration value cannot
// widen or break the policy.
func SecurityHeaders(h http.Handler, agentOrigins []string) http.Handler {
	csp := contentSecurityPolicy(agentOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, req)
	})
}

func contentSecurityPolicy(agentOrigins []string) string {
	connect := []string{"'self'"}
	for _, o := range agentOrigins {
		if s, ok := sourceOrigin(o); ok {
			connect = append(connect, s)
		}
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src " + strings.Join(connect, " "),
		// Not just 'self': browsers that apply form-action to the
		// redirects that follow a submission (Chromium does; the CSP
		// specification leaves it open) would block the consent and logout
		// forms, whose answer is a redirect to the relying party. Redirect URIs are https, or http
		// on loopback for native apps (RFC 8252 §7.3); CSP host sources
		// cannot name the IPv6 loopback [::1], so such a redirect after a
		// form is left to the browser.
		"form-action 'self' https: http://127.0.0.1:* http://localhost:*",
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
}

// sourceOrigin returns o as a CSP host source "scheme://host[:port]", or
// false unless o is an http or https origin with a plain host name or
// IPv4 address (an optional trailing "/" is allowed).
func sourceOrigin(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.Host == "" {
		return "", false
	}
	for _, c := range []byte(u.Host) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':'
		if !ok {
			return "", false
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
)

// SecurityHeaders wraps the handlers of HTML pages. On every response it
// sets a Content-Security-Policy that allows only this origin's scripts,
// styles and images, and those inline scripts and styles that carry the
// response's nonce (CSP Level 3 nonce sources; see Nonce); connections go
// to this origin and to connectOrigins (for example the local signing
// agent, "http://127.0.0.1:8765"). It forbids framing, MIME sniffing,
// referrers and caching, and isolates the browsing context. Origins that
// are not plain http(s) origins are left out, so a bad configuration value
// cannot widen or break the policy.
func SecurityHeaders(h http.Handler, connectOrigins []string) http.Handler {
	return newPolicy(connectOrigins).wrap(h)
}

// Nonce returns the CSP nonce of the response to req: a fresh random
// value per response that SecurityHeaders puts in script-src and
// style-src. A page that needs an inline script writes
// <script nonce="{{$.Nonce}}">. It is "" outside SecurityHeaders.
func Nonce(req *http.Request) string {
	n, _ := req.Context().Value(nonceKey{}).(string)
	return n
}

type nonceKey struct{}

// policy is a Content-Security-Policy with the nonce left out: head +
// nonce + mid + nonce + tail.
type policy struct{ head, mid, tail string }

func newPolicy(connectOrigins []string) policy {
	connect := []string{"'self'"}
	for _, o := range connectOrigins {
		if s, ok := sourceOrigin(o); ok {
			connect = append(connect, s)
		}
	}
	return policy{
		head: "default-src 'none'; script-src 'self' 'nonce-",
		mid:  "'; style-src 'self' 'nonce-",
		tail: "'; " + strings.Join([]string{
			"img-src 'self' data:",
			"connect-src " + strings.Join(connect, " "),
			// Not just 'self': browsers that apply form-action to the
			// redirects that follow a submission (Chromium does; the CSP
			// specification leaves it open) would block the consent and
			// logout forms, whose answer is a redirect to the relying
			// party. Redirect URIs are https, or http on loopback for
			// native apps (RFC 8252 §7.3); CSP host sources cannot name
			// the IPv6 loopback [::1], so such a redirect after a form is
			// left to the browser.
			"form-action 'self' https: http://127.0.0.1:* http://localhost:*",
			"frame-ancestors 'none'",
			"base-uri 'none'",
		}, "; "),
	}
}

func (p policy) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// 128 random bits in base32, which is within the base64-value
		// grammar of a nonce source (CSP3 §2.3.1).
		nonce := rand.Text()
		hd := w.Header()
		hd.Set("Content-Security-Policy", p.head+nonce+p.mid+nonce+p.tail)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), nonceKey{}, nonce)))
	})
}

// Guard wraps a service's HTML endpoints: cross-origin protection of
// unsafe methods (http.CrossOriginProtection, which refuses a cross-site
// POST by its Sec-Fetch-Site or Origin header) for every one, and
// SecurityHeaders around the pages.
type Guard struct {
	cop *http.CrossOriginProtection
	csp policy
}

// NewGuard returns a Guard whose pages may connect to connectOrigins (see
// SecurityHeaders).
func NewGuard(connectOrigins []string) *Guard {
	return &Guard{cop: http.NewCrossOriginProtection(), csp: newPolicy(connectOrigins)}
}

// Page wraps a handler that answers with HTML pages.
func (g *Guard) Page(h http.Handler) http.Handler { return g.csp.wrap(g.cop.Handler(h)) }

// Script wraps an endpoint that a page's own script calls (it answers
// with JSON, not a page): cross-origin protection only.
func (g *Guard) Script(h http.Handler) http.Handler { return g.cop.Handler(h) }

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

package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSRF makes and checks the tokens of a service's forms: an HMAC-SHA256,
// under Key, of a value that binds the token to one browser (a random
// cookie the service sets) and of the form's purpose (for example
// "logout", or "consent:" and the request id). A token made for another
// browser, another form or under another key does not check. Tokens do
// not expire on their own: they live as long as the binding value.
//
// A form token is the second line of defence; the first is Guard, which
// refuses cross-site posts outright.
type CSRF struct {
	// Key is the service's secret, at least 32 bytes; with a shorter key
	// every token is refused.
	Key []byte
	// Cookie names the cookie whose value binds the tokens that Token and
	// Check make and check. TokenFor and CheckFor take the value instead.
	Cookie string
}

// minKey is the shortest Key that CSRF accepts.
const minKey = 32

// Token is the token of the form purpose for the browser that sent req.
func (c CSRF) Token(req *http.Request, purpose string) string {
	return c.TokenFor(c.binding(req), purpose)
}

// Check reports whether token is the one of the form purpose for the
// browser that sent req.
func (c CSRF) Check(req *http.Request, purpose, token string) bool {
	return c.CheckFor(c.binding(req), purpose, token)
}

// TokenFor is the token of the form purpose for the browser bound to
// binding.
func (c CSRF) TokenFor(binding, purpose string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte("csrf\x00" + binding + "\x00" + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckFor reports, in constant time, whether token is the one of the form
// purpose for binding. An empty binding (a browser without the cookie)
// never checks.
func (c CSRF) CheckFor(binding, purpose, token string) bool {
	return binding != "" && len(c.Key) >= minKey && hmac.Equal([]byte(c.TokenFor(binding, purpose)), []byte(token))
}

func (c CSRF) binding(req *http.Request) string {
	if c.Cookie == "" {
		return ""
	}
	ck, err := req.Cookie(c.Cookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

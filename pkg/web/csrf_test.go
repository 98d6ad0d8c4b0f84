package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCSRF(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c := CSRF{Key: key, Cookie: "browser"}
	req := func(cookie string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "browser", Value: cookie})
		}
		return r
	}
	tok := c.Token(req("b1"), "logout")
	if tok != c.TokenFor("b1", "logout") || len(tok) != 43 {
		t.Fatalf("Token %q, TokenFor %q", tok, c.TokenFor("b1", "logout"))
	}
	tests := []struct {
		name   string
		c      CSRF
		cookie string
		form   string
		token  string
		ok     bool
	}{
		{"its own", c, "b1", "logout", tok, true},
		{"another browser", c, "b2", "logout", tok, false},
		{"no browser cookie", c, "", "logout", c.TokenFor("", "logout"), false},
		{"another form", c, "b1", "consent:r1", tok, false},
		{"another key", CSRF{Key: bytes.Repeat([]byte{8}, 32), Cookie: "browser"}, "b1", "logout", tok, false},
		{"short key", CSRF{Key: key[:31], Cookie: "browser"}, "b1", "logout", CSRF{Key: key[:31]}.TokenFor("b1", "logout"), false},
		{"no cookie name", CSRF{Key: key}, "b1", "logout", tok, false},
		{"empty token", c, "b1", "logout", "", false},
		{"cut token", c, "b1", "logout", tok[:42], false},
	}
	for _, tc := range tests {
		if got := tc.c.Check(req(tc.cookie), tc.form, tc.token); got != tc.ok {
			t.Errorf("%s: Check = %v; want %v", tc.name, got, tc.ok)
		}
	}
}

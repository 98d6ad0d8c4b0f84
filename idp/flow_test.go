package idp

import (
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	logincms "github.com/yagona/yagona/idp/login/cms"
	"github.com/yagona/yagona/pkg/trust"
)

func TestCodeFlow(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			e.client("rp1", nil)
			h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
			br := e.browser()
			pk := newPKCE()
			code := e.code(br, "rp1", h, pk, nil)
			st, tok := e.exchange("rp1", code, pk)
			if st != http.StatusOK {
				t.Fatalf("token: %d %v", st, tok)
			}
			idt := claims(t, tok["id_token"].(string))
			if idt["pinfl"] != "31204900012345" || idt["acr"] != ACRSubstantial || idt["nonce"] != "n-1" || idt["aud"] != "rp1" ||
				idt["iss"] != e.issuer || idt["given_name"] != "Dilnoza" || idt["family_name"] != "Karimova" {
				t.Fatalf("id token claims: %v", idt)
			}
			at := claims(t, tok["access_token"].(string))
			if at["client_id"] != "rp1" || at["sub"] != idt["sub"] || at["scope"] != "openid profile pinfl" {
				t.Fatalf("access token claims: %v", at)
			}
			// userinfo
			req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			st, _, body := do(t, e.browser(), req)
			if st != http.StatusOK || !strings.Contains(string(body), `"pinfl":"31204900012345"`) {
				t.Fatalf("userinfo: %d %s", st, body)
			}
			// The session now answers prompt=none without a login.
			st, loc, _ := get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"prompt": {"none"}}))
			if st != http.StatusFound || !strings.Contains(loc, "code=") || !strings.Contains(loc, "iss=") {
				t.Fatalf("prompt=none with a session: %d %s", st, loc)
			}
			// Refresh rotates; the old one, reused, revokes the family.
			rt := tok["refresh_token"].(string)
			st, r2 := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "rp1", e.secrets["rp1"])
			if st != http.StatusOK || r2["refresh_token"] == rt {
				t.Fatalf("refresh: %d %v", st, r2)
			}
			st, r3 := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "rp1", e.secrets["rp1"])
			if st != http.StatusBadRequest || r3["error"] != errInvalidGrant {
				t.Fatalf("reused refresh: %d %v", st, r3)
			}
			if got := e.introspect("rp1", r2["refresh_token"].(string)); got["active"] != false {
				t.Fatalf("the rotated token survived reuse of its predecessor: %v", got)
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { authorizeErrors(t, b) })
	}
}

func authorizeErrors(t *testing.T, b backend) {
	e := newEnv(t, b)
	e.client("rp1", nil)
	pk := newPKCE()
	tests := []struct {
		name     string
		extra    url.Values
		page     int    // status of an error page (no redirect), or 0
		redirect string // error code sent to the redirect URI
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}}, http.StatusBadRequest, ""},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}, http.StatusBadRequest, ""},
		{"redirect differs by a slash", url.Values{"redirect_uri": {"https://rp.example/cb/"}}, http.StatusBadRequest, ""},
		{"no PKCE", url.Values{"code_challenge": {""}}, 0, errInvalidRequest},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, 0, errInvalidRequest},
		{"short challenge", url.Values{"code_challenge": {"abc"}}, 0, errInvalidRequest},
		{"token response type", url.Values{"response_type": {"token"}}, 0, errUnsupportedResponse},
		{"scope not allowed", url.Values{"scope": {"openid ca:admin"}}, 0, errInvalidScope},
		{"no scope", url.Values{"scope": {""}}, 0, errInvalidScope},
		{"prompt none without session", url.Values{"prompt": {"none"}}, 0, errLoginRequired},
		{"prompt none and login", url.Values{"prompt": {"none login"}}, 0, errInvalidRequest},
		{"unknown acr", url.Values{"acr_values": {"urn:other"}}, 0, errInvalidRequest},
		{"bad max_age", url.Values{"max_age": {"-1"}}, 0, errInvalidRequest},
		{"request object", url.Values{"request": {"eyJ.x.y"}}, 0, "request_not_supported"},
		{"unknown request_uri", url.Values{"request_uri": {parURNPrefix + strings.Repeat("A", 43)}}, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, loc, body := get(t, e.browser(), e.authorizeURL("rp1", pk, tc.extra))
			if tc.page != 0 {
				if st != tc.page || loc != "" {
					t.Fatalf("got %d Location %q; want page %d and no redirect", st, loc, tc.page)
				}
				if !strings.Contains(string(body), "<html") {
					t.Fatalf("error is not a page: %s", body)
				}
				return
			}
			u, err := url.Parse(loc)
			if st != http.StatusFound || err != nil || !strings.HasPrefix(loc, "https://rp.example/cb?") {
				t.Fatalf("got %d %q; want a redirect to the client", st, loc)
			}
			if q := u.Query(); q.Get("error") != tc.redirect || q.Get("state") != "st-1" || q.Get("iss") != e.issuer {
				t.Fatalf("redirect query %v; want error %s with state and iss", q, tc.redirect)
			}
		})
	}
	// A duplicated parameter is refused on a page.
	st, loc, _ := get(t, e.browser(), e.authorizeURL("rp1", pk, nil)+"&client_id=rp1")
	if st != http.StatusBadRequest || loc != "" {
		t.Fatalf("duplicate parameter: %d %q", st, loc)
	}
}

// TestLoginRefusals runs every check of the certificate login; none may
// leave a session or a code behind.
func TestLoginRefusals(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			e.client("rp1", nil)
			good := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
			other := newTestCA(t, "Other").person(t, "31204900012346", "Eve", "Other")
			now := time.Now()
			expired := e.ca.person(t, "31204900012347", "Old", "Cert", withValidity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
			revoked := e.ca.person(t, "31204900012348", "Rev", "Oked")
			e.setStatus(revoked, trust.Revoked)
			held := e.ca.person(t, "31204900012349", "Sus", "Pended")
			e.setStatus(held, trust.Suspended)
			unknown := e.ca.person(t, "31204900012350", "Un", "Known")
			e.setStatus(unknown, trust.Unknown)
			noClientAuth := e.ca.person(t, "31204900012351", "Sign", "Only", withEKU(x509.ExtKeyUsageEmailProtection))
			noPolicy := e.ca.person(t, "31204900012352", "No", "Login", withPolicy(polNoLogin))
			service := e.ca.service(t, "rp.example")

			type step func(t *testing.T, br *http.Client, id string) (int, map[string]any)
			withCert := func(h *holder) step {
				return func(t *testing.T, br *http.Client, id string) (int, map[string]any) { return e.loginCMS(br, id, h) }
			}
			tests := []struct {
				name   string
				run    step
				status int
				code   string
			}{
				{"foreign CA", withCert(other), http.StatusForbidden, "certificate_refused"},
				{"expired", withCert(expired), http.StatusForbidden, "certificate_refused"},
				{"revoked", withCert(revoked), http.StatusForbidden, "certificate_refused"},
				{"suspended", withCert(held), http.StatusForbidden, "certificate_refused"},
				{"unknown to the CA", withCert(unknown), http.StatusForbidden, "certificate_refused"},
				{"no clientAuth", withCert(noClientAuth), http.StatusForbidden, "certificate_refused"},
				{"policy without login", withCert(noPolicy), http.StatusForbidden, "certificate_refused"},
				{"service certificate", withCert(service), http.StatusForbidden, "certificate_refused"},
				{"signature over other bytes", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					ts := e.challenge(br, id)
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(t, good, ts+"\n", false)})
				}, http.StatusBadRequest, "invalid_signature"},
				{"detached over other bytes", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					ts := e.challenge(br, id)
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(t, good, strings.Replace(ts, "nonce: ", "nonce: x", 1), true)})
				}, http.StatusBadRequest, "invalid_signature"},
				{"no challenge asked", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(t, good, "anything", false)})
				}, http.StatusBadRequest, "challenge_expired"},
				{"challenge reused", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					ts := e.challenge(br, id)
					sig := sign(t, good, ts, false)
					// First use fails on purpose (wrong request), burning nothing; then
					// a good use, then the replay.
					if st, out := postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sig}); st != http.StatusOK {
						t.Fatalf("first use: %d %v", st, out)
					}
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sig})
				}, http.StatusBadRequest, "request_expired"},
				{"challenge expired", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					ts := e.challenge(br, id)
					e.clock.Advance(121 * time.Second)
					defer e.clock.Advance(-121 * time.Second)
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(t, good, ts, false)})
				}, http.StatusBadRequest, "challenge_expired"},
				{"another browser", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					ts := e.challenge(br, id)
					return postJSON(t, e.browser(), e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(t, good, ts, false)})
				}, http.StatusForbidden, "invalid_request"},
				{"malformed CMS", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					e.challenge(br, id)
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": "MIIBAgMEBQ=="})
				}, http.StatusBadRequest, "invalid_signature"},
				{"not base64", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					e.challenge(br, id)
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": "%%%"})
				}, http.StatusBadRequest, "invalid_signature"},
				{"unknown field", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": "x", "extra": "y"})
				}, http.StatusBadRequest, "invalid_request"},
				{"oversized body", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					return postJSON(t, br, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": strings.Repeat("A", 256<<10)})
				}, http.StatusRequestEntityTooLarge, "invalid_request"},
				{"unknown request", func(t *testing.T, br *http.Client, id string) (int, map[string]any) {
					return postJSON(t, br, e.issuer+logincms.PathChallenge, map[string]string{"request": strings.Repeat("B", 43)})
				}, http.StatusBadRequest, "request_expired"},
				{"acr not met", func(t *testing.T, br *http.Client, _ string) (int, map[string]any) {
					id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), url.Values{"acr_values": {"high"}}))
					return e.loginCMS(br, id, good)
				}, http.StatusForbidden, "acr_not_met"},
			}
			// What the refusal says of a status: the trust vocabulary's word.
			says := map[string]string{"revoked": "the certificate is revoked", "suspended": "the certificate is suspended",
				"unknown to the CA": "the certificate is unknown to its authority"}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					br := e.browser()
					id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), nil))
					st, out := tc.run(t, br, id)
					if tc.name == "challenge reused" {
						// The first use logged in; what matters is the replay's refusal.
						if st != http.StatusBadRequest {
							t.Fatalf("replayed challenge: %d %v", st, out)
						}
						return
					}
					if st != tc.status || out["error"] != tc.code {
						t.Fatalf("got %d %v; want %d %s", st, out, tc.status, tc.code)
					}
					if w, ok := says[tc.name]; ok && out["error_description"] != w {
						t.Fatalf("refusal says %q; want %q", out["error_description"], w)
					}
					// No session was opened: prompt=none still needs a login.
					st, loc, _ := get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"prompt": {"none"}}))
					if st != http.StatusFound || !strings.Contains(loc, "error=login_required") {
						t.Fatalf("a refused login left a session: %d %s", st, loc)
					}
				})
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { tokenErrors(t, b) })
	}
}

func tokenErrors(t *testing.T, b backend) {
	e := newEnv(t, b)
	e.client("rp1", nil)
	e.client("rp2", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	pk := newPKCE()
	code := e.code(e.browser(), "rp1", h, pk, nil)

	tests := []struct {
		name   string
		form   url.Values
		user   string
		pass   string
		status int
		code   string
	}{
		{"wrong secret", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier}}, "rp1", "nope", 401, errInvalidClient},
		{"no client auth", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier}, "client_id": {"rp1"}}, "", "", 401, errInvalidClient},
		{"wrong secret in the body", url.Values{"grant_type": {"authorization_code"}, "client_id": {"rp1"}, "client_secret": {"x"}}, "", "", 401, errInvalidClient},
		{"secret in header and body", url.Values{"grant_type": {"authorization_code"}, "client_secret": {"x"}}, "rp1", "", 400, errInvalidRequest},
		{"unknown grant", url.Values{"grant_type": {"password"}}, "rp1", "", 400, errUnsupportedGrant},
		{"other client's code", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier}}, "rp2", "", 400, errInvalidGrant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pass := tc.pass
			if pass == "" && tc.user != "" {
				pass = e.secrets[tc.user]
			}
			st, out := postForm(t, e.browser(), e.issuer+pathToken, tc.form, tc.user, pass)
			if st != tc.status || out["error"] != tc.code {
				t.Fatalf("got %d %v; want %d %s", st, out, tc.status, tc.code)
			}
		})
	}

	t.Run("wrong verifier burns the code", func(t *testing.T) {
		pk := newPKCE()
		code := e.code(e.browser(), "rp1", h, pk, nil)
		if st, out := e.exchange("rp1", code, newPKCE()); st != 400 || out["error"] != errInvalidGrant {
			t.Fatalf("wrong verifier: %d %v", st, out)
		}
		if st, out := e.exchange("rp1", code, pk); st != 400 || out["error"] != errInvalidGrant {
			t.Fatalf("code usable after a failed exchange: %d %v", st, out)
		}
	})

	t.Run("replayed code revokes its tokens", func(t *testing.T) {
		pk := newPKCE()
		code := e.code(e.browser(), "rp1", h, pk, nil)
		st, tok := e.exchange("rp1", code, pk)
		if st != 200 {
			t.Fatalf("exchange: %d %v", st, tok)
		}
		if st, out := e.exchange("rp1", code, pk); st != 400 || out["error"] != errInvalidGrant {
			t.Fatalf("replay: %d %v", st, out)
		}
		if got := e.introspect("rp1", tok["access_token"].(string)); got["active"] != false {
			t.Fatalf("access token still active after code replay: %v", got)
		}
		if got := e.introspect("rp1", tok["refresh_token"].(string)); got["active"] != false {
			t.Fatalf("refresh token still active after code replay: %v", got)
		}
	})

	t.Run("expired code", func(t *testing.T) {
		pk := newPKCE()
		code := e.code(e.browser(), "rp1", h, pk, nil)
		// The code TTL is enforced by the cache; the memory cache runs on
		// real time here, so delete through the same path expiry takes.
		_ = e.cache.Delete(t.Context(), hashKey("code:", code))
		if st, out := e.exchange("rp1", code, pk); st != 400 || out["error"] != errInvalidGrant {
			t.Fatalf("expired code: %d %v", st, out)
		}
	})
}

package idp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/yagona/yagona/idp/login/tlscert"
	"github.com/yagona/yagona/pkg/trust"
)

func TestClientValidation(t *testing.T) {
	base := func() ClientInput {
		return ClientInput{ID: "svc", Name: "Service", RedirectURIs: []string{"https://rp.example/cb"}}
	}
	tests := []struct {
		name string
		mod  func(*ClientInput)
		ok   bool
	}{
		{"defaults", func(*ClientInput) {}, true},
		{"bad id", func(c *ClientInput) { c.ID = "A B" }, false},
		{"no name", func(c *ClientInput) { c.Name = " " }, false},
		{"http redirect", func(c *ClientInput) { c.RedirectURIs = []string{"http://rp.example/cb"} }, false},
		{"loopback http redirect", func(c *ClientInput) { c.RedirectURIs = []string{"http://127.0.0.1:9000/cb"} }, true},
		{"fragment", func(c *ClientInput) { c.RedirectURIs = []string{"https://rp.example/cb#x"} }, false},
		{"relative", func(c *ClientInput) { c.RedirectURIs = []string{"/cb"} }, false},
		{"custom scheme", func(c *ClientInput) { c.RedirectURIs = []string{"uz.gov.app:/cb"} }, false},
		{"code without redirect", func(c *ClientInput) { c.RedirectURIs = nil }, false},
		{"unknown scope", func(c *ClientInput) { c.Scopes = []string{"openid", "email"} }, false},
		{"unknown grant", func(c *ClientInput) { c.GrantTypes = []string{"password"} }, false},
		{"unknown method", func(c *ClientInput) { c.AuthMethod = "client_secret_jwt" }, false},
		{"private_key_jwt without jwks", func(c *ClientInput) { c.AuthMethod = AuthPrivateKeyJWT }, false},
		{"tls without subject", func(c *ClientInput) { c.AuthMethod = AuthTLSClient }, false},
		{"public client credentials", func(c *ClientInput) {
			c.AuthMethod, c.GrantTypes = AuthNone, []string{GrantClientCredentials}
		}, false},
		{"pairwise derives sector", func(c *ClientInput) { c.SubjectType = "pairwise" }, true},
		{"pairwise over two hosts", func(c *ClientInput) {
			c.SubjectType, c.RedirectURIs = "pairwise", []string{"https://a.example/cb", "https://b.example/cb"}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mod(&in)
			_, err := in.validate()
			if (err == nil) != tc.ok {
				t.Fatalf("validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func jwkSet(t *testing.T, k *ecdsa.PrivateKey, kid string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertion(t testing.TB, k *ecdsa.PrivateKey, kid, iss, aud, jti string, exp time.Duration) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{Issuer: iss, Subject: iss, Audience: jwt.ClaimStrings{aud},
		ID: jti, IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp))})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPrivateKeyJWTAndPAR(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { privateKeyJWTAndPAR(t, b) })
	}
}

func privateKeyJWTAndPAR(t *testing.T, b backend) {
	e := newEnv(t, b)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e.client("pkj", func(in *ClientInput) { in.AuthMethod, in.JWKS = AuthPrivateKeyJWT, jwkSet(t, k, "k1") })
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	tokenURL := e.issuer + pathToken

	form := func(a string, extra url.Values) url.Values {
		v := url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	// PAR: push, then authorize with only client_id and request_uri.
	pk := newPKCE()
	push := url.Values{"response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"}, "scope": {"openid pinfl"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {pk.challenge}, "code_challenge_method": {"S256"}}
	st, par := postForm(t, e.browser(), e.issuer+pathPAR, form(assertion(t, k, "k1", "pkj", e.issuer, randomToken(8), time.Minute), push), "", "")
	if st != http.StatusCreated || !strings.HasPrefix(par["request_uri"].(string), parURNPrefix) {
		t.Fatalf("PAR: %d %v", st, par)
	}
	br := e.browser()
	au := e.issuer + pathAuthorize + "?" + url.Values{"client_id": {"pkj"}, "request_uri": {par["request_uri"].(string)}}.Encode()
	id := e.startLogin(br, au)
	// The request_uri is single use.
	if st, loc, _ := get(t, e.browser(), au); st != http.StatusBadRequest || loc != "" {
		t.Fatalf("request_uri reused: %d %q", st, loc)
	}
	st, out := e.loginCMS(br, id, h)
	if st != 200 {
		t.Fatalf("login: %d %v", st, out)
	}
	code := codeFrom(t, out["redirect"].(string))
	jti := randomToken(8)
	a := assertion(t, k, "k1", "pkj", tokenURL, jti, time.Minute)
	st, tok := postForm(t, e.browser(), tokenURL, form(a, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pk.verifier}}), "", "")
	if st != 200 || tok["id_token"] == nil {
		t.Fatalf("token with private_key_jwt: %d %v", st, tok)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	bad := []struct {
		name string
		a    string
	}{
		{"replayed jti", a},
		{"wrong key", assertion(t, other, "k1", "pkj", tokenURL, randomToken(8), time.Minute)},
		{"wrong audience", assertion(t, k, "k1", "pkj", "https://other.example/token", randomToken(8), time.Minute)},
		{"expired", assertion(t, k, "k1", "pkj", tokenURL, randomToken(8), -time.Minute)},
		{"too long", assertion(t, k, "k1", "pkj", tokenURL, randomToken(8), time.Hour)},
		{"no jti", assertion(t, k, "k1", "pkj", tokenURL, "", time.Minute)},
		{"garbage", "not.a.jwt"},
		{"alg none", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJwa2oiLCJzdWIiOiJwa2oifQ."},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			st, out := postForm(t, e.browser(), tokenURL, form(tc.a, refresh), "", "")
			if st != http.StatusUnauthorized || out["error"] != errInvalidClient {
				t.Fatalf("got %d %v; want 401 invalid_client", st, out)
			}
		})
	}
	// After all those refusals the refresh token still works once.
	st, out = postForm(t, e.browser(), tokenURL, form(assertion(t, k, "k1", "pkj", e.issuer, randomToken(8), time.Minute), refresh), "", "")
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, out)
	}
}

func TestTLSClientAuthAndBoundTokens(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	svc := e.ca.service(t, "registry.gov.uz")
	e.client("mtls", func(in *ClientInput) {
		in.AuthMethod, in.TLSSubjectDN = AuthTLSClient, svc.cert.Subject.String()
		in.GrantTypes, in.Scopes, in.RedirectURIs = []string{GrantClientCredentials}, []string{"decisions"}, nil
	})
	withCert := e.browser(svc.tlsCert())
	st, tok := postForm(t, withCert, e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"mtls"}, "scope": {"decisions"}}, "", "")
	if st != 200 {
		t.Fatalf("client credentials over mTLS: %d %v", st, tok)
	}
	at := claims(t, tok["access_token"].(string))
	sum := sha256.Sum256(svc.cert.Raw)
	cnf, _ := at["cnf"].(map[string]any)
	if cnf["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) || at["sub"] != "mtls" {
		t.Fatalf("token not bound to the certificate: %v", at)
	}
	// Without the certificate, or with another, the client is refused.
	other := e.ca.service(t, "other.gov.uz")
	stranger := newTestCA(t, "Stranger").service(t, "registry.gov.uz")
	for name, c := range map[string]*http.Client{"no certificate": e.browser(), "other subject": e.browser(other.tlsCert()),
		"foreign CA same subject": e.browser(stranger.tlsCert())} {
		st, out := postForm(t, c, e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"mtls"}}, "", "")
		if st != http.StatusUnauthorized || out["error"] != errInvalidClient {
			t.Errorf("%s: %d %v", name, st, out)
		}
	}
	e.setStatus(svc, trust.Revoked)
	if st, _ := postForm(t, withCert, e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"mtls"}}, "", ""); st != http.StatusUnauthorized {
		t.Errorf("revoked service certificate: %d", st)
	}
	e.setStatus(svc, trust.Good)
	// The bound token is refused by userinfo and the officer path without
	// the certificate.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/", nil)
	req.TLS = nil
	if _, err := e.p.VerifyAccessToken(req, tok["access_token"].(string)); err == nil {
		t.Fatal("a certificate-bound token was accepted without the certificate")
	}
}

func TestTLSLogin(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	br := e.browser(h.tlsCert())
	id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), nil))
	st, loc, body := get(t, br, e.issuer+tlscert.Path+"?request="+id)
	if st != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Fatalf("TLS login: %d %q %s", st, loc, body)
	}
	// Without a certificate the page says so, and no session starts.
	br2 := e.browser()
	id = e.startLogin(br2, e.authorizeURL("rp1", newPKCE(), nil))
	if st, loc, _ := get(t, br2, e.issuer+tlscert.Path+"?request="+id); st != http.StatusBadRequest || loc != "" {
		t.Fatalf("TLS login without a certificate: %d %q", st, loc)
	}
	// A revoked certificate is refused.
	e.setStatus(h, trust.Revoked)
	br3 := e.browser(h.tlsCert())
	id = e.startLogin(br3, e.authorizeURL("rp1", newPKCE(), nil))
	if st, _, _ := get(t, br3, e.issuer+tlscert.Path+"?request="+id); st != http.StatusForbidden {
		t.Fatalf("revoked TLS login: %d", st)
	}
}

func TestForwardedCertificateNeedsTrustedProxy(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) { c.ForwardedCertHeader = "X-Client-Cert" })
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova", withPolicy(polOfficial))
	br := e.browser()
	id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), nil))
	req, _ := http.NewRequest(http.MethodGet, e.issuer+tlscert.Path+"?request="+id, nil)
	req.Header.Set("X-Client-Cert", url.QueryEscape(string(pemOf(h.cert))))
	// 127.0.0.1 is not a trusted proxy here: the header is ignored.
	if st, _, _ := do(t, br, req); st != http.StatusBadRequest {
		t.Fatalf("forwarded certificate from an untrusted peer: %d", st)
	}
}

func TestForwardedCertificateFromTrustedProxy(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) {
		c.ForwardedCertHeader = "X-Client-Cert"
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova", withPolicy(polOfficial))
	br := e.browser()
	pk := newPKCE()
	id := e.startLogin(br, e.authorizeURL("rp1", pk, nil))
	req, _ := http.NewRequest(http.MethodGet, e.issuer+tlscert.Path+"?request="+id, nil)
	req.Header.Set("X-Client-Cert", url.QueryEscape(string(pemOf(h.cert))))
	st, loc, body := do(t, br, req)
	if st != http.StatusFound {
		t.Fatalf("forwarded login: %d %s", st, body)
	}
	_, tok := e.exchange("rp1", codeFrom(t, loc), pk)
	// An official's certificate is "high", but the forwarded method is
	// capped at substantial.
	if got := claims(t, tok["id_token"].(string))["acr"]; got != ACRSubstantial {
		t.Fatalf("acr = %v; want the method cap substantial", got)
	}
}

package idp

import (
	"bytes"
	"context"
	"crypto"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	logincms "github.com/yagona/yagona/idp/login/cms"
	"github.com/yagona/yagona/pkg/kms"
)

func TestLogoutAndBackchannel(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rp1", func(in *ClientInput) {
		in.BackchannelLogoutURI = "http://127.0.0.1" + strings.TrimPrefix(e.rp.URL, "http://127.0.0.1")
	})
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	br := e.browser()
	pk := newPKCE()
	_, tok := e.exchange("rp1", e.code(br, "rp1", h, pk, nil), pk)
	idt := tok["id_token"].(string)
	sid := claims(t, idt)["sid"]

	// An unregistered post-logout URI is refused on a page.
	st, loc, _ := get(t, br, e.issuer+pathLogout+"?"+url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if st != http.StatusBadRequest || loc != "" {
		t.Fatalf("unregistered post-logout URI: %d %q", st, loc)
	}
	// Without a hint, a confirmation page; with the session's hint, logout.
	st, _, body := get(t, br, e.issuer+pathLogout)
	if st != http.StatusOK || !strings.Contains(string(body), `name="csrf"`) {
		t.Fatalf("logout confirmation: %d %s", st, body)
	}
	st, loc, _ = get(t, br, e.issuer+pathLogout+"?"+url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"z"}}.Encode())
	if st != http.StatusFound || loc != "https://rp.example/bye?state=z" {
		t.Fatalf("logout: %d %q", st, loc)
	}
	select {
	case v := <-e.logouts:
		lt := claims(t, v.Get("logout_token"))
		if lt["sid"] != sid || lt["aud"] != "rp1" || lt["events"] == nil || lt["nonce"] != nil {
			t.Fatalf("logout token: %v", lt)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no back-channel logout")
	}
	// The session is gone and its refresh token revoked.
	if st, loc, _ := get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"prompt": {"none"}})); st != http.StatusFound || !strings.Contains(loc, "login_required") {
		t.Fatalf("session survived logout: %d %q", st, loc)
	}
	if got := e.introspect("rp1", tok["refresh_token"].(string)); got["active"] != false {
		t.Fatalf("refresh token survived logout: %v", got)
	}
}

func TestLogoutConfirmationNeedsCSRF(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	br := e.browser()
	e.code(br, "rp1", h, newPKCE(), nil)
	st, _ := postForm(t, br, e.issuer+pathLogout, url.Values{"decision": {"logout"}, "csrf": {"forged"}}, "", "")
	if st != http.StatusForbidden {
		t.Fatalf("logout with a forged CSRF token: %d", st)
	}
	_, _, body := get(t, br, e.issuer+pathLogout)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on the logout page: %s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+pathLogout, strings.NewReader(url.Values{"decision": {"logout"}, "csrf": {string(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if st, _, _ := do(t, br, req); st != http.StatusOK {
		t.Fatalf("confirmed logout: %d", st)
	}
	if st, loc, _ := get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"prompt": {"none"}})); !strings.Contains(loc, "login_required") {
		t.Fatalf("session survived: %d %q", st, loc)
	}
}

func TestConsent(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rpc", func(in *ClientInput) { in.Consent = true })
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	br := e.browser()
	id := e.startLogin(br, e.authorizeURL("rpc", newPKCE(), nil))
	st, out := e.loginCMS(br, id, h)
	if st != 200 || !strings.HasPrefix(out["redirect"].(string), pathConsent+"?request=") {
		t.Fatalf("login did not lead to consent: %d %v", st, out)
	}
	st, _, body := get(t, br, e.issuer+out["redirect"].(string))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if st != 200 || m == nil {
		t.Fatalf("consent page: %d %s", st, body)
	}
	post := func(decision, csrf string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+pathConsent, strings.NewReader(url.Values{"request": {id}, "csrf": {csrf}, "decision": {decision}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		st, loc, _ := do(t, br, req)
		return st, loc
	}
	if st, _ := post("allow", "forged"); st != http.StatusForbidden {
		t.Fatalf("consent with a forged token: %d", st)
	}
	if st, loc := post("allow", string(m[1])); st != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Fatalf("consent allow: %d %q", st, loc)
	}
	// Given once, it is remembered.
	st, loc, _ := get(t, br, e.authorizeURL("rpc", newPKCE(), url.Values{"prompt": {"none"}}))
	if st != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Fatalf("remembered consent: %d %q", st, loc)
	}
	// A person who declines sends the client access_denied.
	br2 := e.browser()
	id = e.startLogin(br2, e.authorizeURL("rpc", newPKCE(), url.Values{"prompt": {"consent"}}))
	_, out = e.loginCMS(br2, id, h)
	_, _, body = get(t, br2, e.issuer+out["redirect"].(string))
	m = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	br = br2
	if st, loc := post("deny", string(m[1])); st != http.StatusFound || !strings.Contains(loc, "error=access_denied") {
		t.Fatalf("consent deny: %d %q", st, loc)
	}
}

func TestMaxAgeAndStepUp(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rp1", nil)
	citizen := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	br := e.browser()
	e.code(br, "rp1", citizen, newPKCE(), nil)
	e.clock.Advance(10 * time.Minute)
	// max_age shorter than the session's age forces a new login.
	st, loc, _ := get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"max_age": {"60"}}))
	if st != http.StatusFound || !strings.HasPrefix(loc, pathLogin) {
		t.Fatalf("max_age: %d %q", st, loc)
	}
	// acr_values=high above the session's substantial: step up, not a
	// silent downgrade.
	st, loc, _ = get(t, br, e.authorizeURL("rp1", newPKCE(), url.Values{"acr_values": {"high"}}))
	if st != http.StatusFound || !strings.HasPrefix(loc, pathLogin) {
		t.Fatalf("step-up: %d %q", st, loc)
	}
	official := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova", withPolicy(polOfficial))
	pk := newPKCE()
	id := strings.TrimPrefix(loc, pathLogin+"?request=")
	_ = pk
	st2, out := e.loginCMS(br, id, official)
	if st2 != 200 {
		t.Fatalf("step-up login: %d %v", st2, out)
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) { c.KeyRotation = 24 * time.Hour; c.KeyPublishLead = time.Hour })
	ctx := context.Background()
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	pk := newPKCE()
	_, tok := e.exchange("rp1", e.code(e.browser(), "rp1", h, pk, nil), pk)
	first := kidOf(t, tok["access_token"].(string))

	e.clock.Advance(25 * time.Hour)
	if err := e.p.rotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	set, _ := e.p.jwks(ctx)
	if len(set.Keys) != 2 {
		t.Fatalf("after rotation %d keys published; want the old and the next", len(set.Keys))
	}
	k, _, _ := e.p.signingKey(ctx)
	if k.rec.ID != first {
		t.Fatal("the next key signs before its publication lead has passed")
	}
	e.clock.Advance(time.Hour + time.Minute)
	if err := e.p.rotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	k, _, _ = e.p.signingKey(ctx)
	if k.rec.ID == first {
		t.Fatal("the next key did not take over")
	}
	set, _ = e.p.jwks(ctx)
	if len(set.Keys) != 2 {
		t.Fatalf("the old key left the JWKS while its tokens live: %d keys", len(set.Keys))
	}
	e.clock.Advance(e.p.maxTokenTTL() + 10*time.Minute)
	if err := e.p.rotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.ringKeys(ctx, true); err != nil {
		t.Fatal(err)
	}
	set, _ = e.p.jwks(ctx)
	if len(set.Keys) != 1 || set.Keys[0].KeyID == first {
		t.Fatalf("retired key still published: %v", set.Keys)
	}
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	h := claims(t, strings.Split(jwt, ".")[0]+"."+strings.Split(jwt, ".")[0]+".x")
	return h["kid"].(string)
}

func TestRevocationAndIntrospection(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("rp1", nil)
	e.client("rp2", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova")
	pk := newPKCE()
	_, tok := e.exchange("rp1", e.code(e.browser(), "rp1", h, pk, nil), pk)
	at := tok["access_token"].(string)
	if got := e.introspect("rp1", at); got["active"] != true || got["client_id"] != "rp1" {
		t.Fatalf("introspect: %v", got)
	}
	if got := e.introspect("rp2", at); got["active"] != false {
		t.Fatalf("another client learnt about rp1's token: %v", got)
	}
	// rp2 cannot revoke rp1's token (answers 200 but nothing happens).
	st, _ := postForm(t, e.browser(), e.issuer+pathRevoke, url.Values{"token": {at}}, "rp2", e.secrets["rp2"])
	if st != 200 || e.introspect("rp1", at)["active"] != true {
		t.Fatalf("revocation by another client: %d", st)
	}
	st, _ = postForm(t, e.browser(), e.issuer+pathRevoke, url.Values{"token": {at}, "token_type_hint": {"access_token"}}, "rp1", e.secrets["rp1"])
	if st != 200 || e.introspect("rp1", at)["active"] != false {
		t.Fatalf("access token revocation: %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if st, _, _ := do(t, e.browser(), req); st != http.StatusUnauthorized {
		t.Fatalf("userinfo with a revoked token: %d", st)
	}
	rt := tok["refresh_token"].(string)
	postForm(t, e.browser(), e.issuer+pathRevoke, url.Values{"token": {rt}}, "rp1", e.secrets["rp1"])
	if st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "rp1", e.secrets["rp1"]); st != 400 || out["error"] != errInvalidGrant {
		t.Fatalf("revoked refresh token: %d %v", st, out)
	}
	if st, _ := postForm(t, e.browser(), e.issuer+pathRevoke, url.Values{"token": {rt}, "token_type_hint": {"id_token"}}, "rp1", e.secrets["rp1"]); st != 400 {
		t.Fatalf("unknown hint: %d", st)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("svc", func(in *ClientInput) {
		in.GrantTypes, in.Scopes, in.RedirectURIs = []string{GrantClientCredentials}, []string{"decisions"}, nil
	})
	st, tok := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"decisions"}}, "svc", e.secrets["svc"])
	if st != 200 || tok["refresh_token"] != nil || tok["id_token"] != nil {
		t.Fatalf("client credentials: %d %v", st, tok)
	}
	if st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, "svc", e.secrets["svc"]); st != 400 || out["error"] != errInvalidScope {
		t.Fatalf("openid by client credentials: %d %v", st, out)
	}
	if st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "svc", e.secrets["svc"]); st != 400 || out["error"] != errUnauthorizedClient {
		t.Fatalf("code grant by a service client: %d %v", st, out)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) { c.FailuresPerMinute = 3 })
	e.client("rp1", nil)
	for i := range 3 {
		if st, _ := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}}, "rp1", "wrong"); st != 401 {
			t.Fatalf("attempt %d: %d", i, st)
		}
	}
	st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}}, "rp1", e.secrets["rp1"])
	if st != http.StatusTooManyRequests || out["error"] != errSlowDown {
		t.Fatalf("after the limit, even the right secret: %d %v", st, out)
	}
	br := e.browser()
	if st, _ := postJSON(t, br, e.issuer+logincms.PathChallenge, map[string]string{"request": strings.Repeat("C", 43)}); st != http.StatusTooManyRequests {
		t.Fatalf("login attempts from a limited source: %d", st)
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	st, _, body := get(t, e.browser(), e.issuer+pathDiscovery)
	if st != 200 || !strings.Contains(string(body), `"issuer":"`+e.issuer+`"`) || !strings.Contains(string(body), `"code_challenge_methods_supported":["S256"]`) {
		t.Fatalf("discovery: %d %s", st, body)
	}
	st, _, body = get(t, e.browser(), e.issuer+pathJWKS)
	if st != 200 || !strings.Contains(string(body), `"kty":"EC"`) || strings.Contains(string(body), `"d":`) {
		t.Fatalf("jwks: %d %s", st, body)
	}
}

// pemWrapper keeps keys as encrypted PEM, as the app's wrapper does.
type pemWrapper struct{ pass []byte }

func (w pemWrapper) NewKey() (crypto.Signer, []byte, error) {
	k, err := kms.GenerateKey(kms.ECDSAP256)
	if err != nil {
		return nil, nil, err
	}
	b, err := kms.EncryptPEM(k, w.pass)
	return k, b, err
}
func (w pemWrapper) Unwrap(b []byte) (crypto.Signer, error) { return kms.DecryptPEM(b, w.pass) }

// TestWrappedKeysShared: a token-signing key made by one replica's
// rotation lives in the store, encrypted, and signs on another replica
// that has no file of it; a replica without the wrapper refuses it.
func TestWrappedKeysShared(t *testing.T) {
	w := pemWrapper{pass: []byte("correct horse battery staple")}
	e := newEnv(t, backends(t)[0], func(c *Config) { c.KeyWrapper = w })
	ctx := context.Background()
	k1, s1, err := e.p.signingKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1.rec.Wrapped) == 0 || !strings.HasPrefix(k1.rec.KeyURI, "db:") || !bytes.Contains(k1.rec.Wrapped, []byte("BEGIN ENCRYPTED PRIVATE KEY")) {
		t.Fatalf("key not kept wrapped in the store: %q", k1.rec.KeyURI)
	}
	other := e.p.cfg
	other.Keys, other.Registerer = &memKeys{keys: map[string]crypto.Signer{}}, nil
	p2, err := New(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	k2, s2, err := p2.signingKey(ctx)
	if err != nil {
		t.Fatalf("another replica cannot load the shared key: %v", err)
	}
	if k2.rec.ID != k1.rec.ID || !s2.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s1.Public()) {
		t.Fatal("another replica signs with a different key")
	}
	for name, kw := range map[string]KeyWrapper{"no wrapper": nil, "wrong passphrase": pemWrapper{pass: []byte("wrong")}} {
		other.KeyWrapper = kw
		if p, err := New(ctx, other); err == nil {
			if _, _, err := p.signingKey(ctx); err == nil {
				t.Fatalf("%s: a replica loaded the wrapped key", name)
			}
		}
	}
}

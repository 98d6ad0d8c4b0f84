package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// metadataDoc fetches a well-known document and decodes it.
func (e *env) metadataDoc(path string) (map[string]any, []byte) {
	e.t.Helper()
	st, _, body := get(e.t, e.browser(), e.issuer+path)
	if st != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, st, body)
	}
	var md map[string]any
	if err := json.Unmarshal(body, &md); err != nil {
		e.t.Fatalf("%s: %v", path, err)
	}
	return md, body
}

// strs reads a metadata list.
func strs(t *testing.T, md map[string]any, field string) []string {
	t.Helper()
	l, ok := md[field].([]any)
	if !ok || len(l) == 0 {
		t.Fatalf("metadata %s: %v", field, md[field])
	}
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = x.(string)
	}
	return out
}

// TestMetadataEndpoints: both well-known documents are the same; every
// endpoint the provider serves is named, every named endpoint answers its
// methods, and the fields RFC 8414 and RFC 9126 make conditional are set.
func TestMetadataEndpoints(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, oidcBody := e.metadataDoc(pathDiscovery)
	_, oauthBody := e.metadataDoc(pathOAuthMetadata)
	if string(oidcBody) != string(oauthBody) {
		t.Fatalf("the two documents differ:\n%s\n%s", oidcBody, oauthBody)
	}
	if md["issuer"] != e.issuer {
		t.Fatalf("issuer %v, want %s (RFC 8414 §3.3)", md["issuer"], e.issuer)
	}
	served := map[string]bool{}
	for _, ep := range endpoints() {
		if ep.field == "" {
			continue
		}
		served[ep.field] = true
		if md[ep.field] != e.issuer+ep.path {
			t.Errorf("%s: %v, want %s", ep.field, md[ep.field], e.issuer+ep.path)
		}
		for _, m := range ep.methods {
			req, _ := http.NewRequest(m, e.issuer+ep.path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if st, _, _ := do(t, e.browser(), req); st == http.StatusNotFound || st == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d", m, ep.field, st)
			}
		}
		req, _ := http.NewRequest(http.MethodDelete, e.issuer+ep.path, nil)
		if st, _, _ := do(t, e.browser(), req); st != http.StatusMethodNotAllowed {
			t.Errorf("DELETE %s: %d, want 405", ep.field, st)
		}
	}
	for k := range md {
		if (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri") && !served[k] {
			t.Errorf("%s is advertised but not served", k)
		}
	}
	aliases, _ := md["mtls_endpoint_aliases"].(map[string]any)
	for k, v := range aliases {
		if !served[k] || md[k] != v {
			t.Errorf("mtls alias %s=%v is not a served endpoint", k, v)
		}
	}
	for _, f := range []string{"token", "introspection", "revocation"} {
		// RFC 8414 §2: the algorithms are required with private_key_jwt.
		if !slices.Contains(strs(t, md, f+"_endpoint_auth_methods_supported"), AuthPrivateKeyJWT) ||
			!slices.Equal(strs(t, md, f+"_endpoint_auth_signing_alg_values_supported"), assertionAlgs) {
			t.Errorf("%s endpoint: auth methods or algorithms missing", f)
		}
	}
	for field, want := range map[string]any{"require_request_uri_registration": false, "request_parameter_supported": false,
		"authorization_response_iss_parameter_supported": true, "require_pushed_authorization_requests": false} {
		if md[field] != want {
			t.Errorf("%s: %v, want %v", field, md[field], want)
		}
	}
}

// TestMetadataSigningAlg: the advertised ID token algorithm is the one of
// every published key and of the tokens.
func TestMetadataSigningAlg(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	algs := strs(t, md, "id_token_signing_alg_values_supported")
	var set jose.JSONWebKeySet
	_, _, body := get(t, e.browser(), e.issuer+pathJWKS)
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v %s", err, body)
	}
	for _, k := range set.Keys {
		if !slices.Contains(algs, k.Algorithm) {
			t.Errorf("published key %s is %s; advertised %v", k.KeyID, k.Algorithm, algs)
		}
	}
	e.client("rp1", nil)
	pk := newPKCE()
	st, tok := e.exchange("rp1", e.code(e.browser(), "rp1", e.ca.person(t, "31204900012345", "Dilnoza", "Karimova"), pk, nil), pk)
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, tok)
	}
	for _, name := range []string{"id_token", "access_token"} {
		var h struct{ Alg string }
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok[name].(string), ".")[0])
		if err := json.Unmarshal(b, &h); err != nil || !slices.Contains(algs, h.Alg) {
			t.Errorf("%s alg %q; advertised %v", name, h.Alg, algs)
		}
	}
}

// TestMetadataGrantTypes: each advertised grant type is served to a client
// allowed it and refused to one that is not; others are unsupported.
func TestMetadataGrantTypes(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	e.client("rp1", nil)
	e.client("svc", func(in *ClientInput) {
		in.GrantTypes, in.Scopes, in.RedirectURIs = []string{GrantClientCredentials}, []string{"decisions"}, nil
	})
	pk := newPKCE()
	code := e.code(e.browser(), "rp1", e.ca.person(t, "31204900012345", "Dilnoza", "Karimova"), pk, nil)
	var refresh string
	// run[g] runs grant g as the client id.
	run := map[string]func(id string) (int, map[string]any){
		GrantCode: func(id string) (int, map[string]any) {
			st, out := e.exchange(id, code, pk)
			refresh, _ = out["refresh_token"].(string)
			return st, out
		},
		GrantRefresh: func(id string) (int, map[string]any) {
			return postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {GrantRefresh}, "refresh_token": {refresh}}, id, e.secrets[id])
		},
		GrantClientCredentials: func(id string) (int, map[string]any) {
			return postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {GrantClientCredentials}, "scope": {"decisions"}}, id, e.secrets[id])
		},
	}
	for _, g := range strs(t, md, "grant_types_supported") {
		allowed, refused := "rp1", "svc"
		if g == GrantClientCredentials {
			allowed, refused = "svc", "rp1"
		}
		if run[g] == nil {
			t.Fatalf("advertised grant %s has no test", g)
		}
		if st, out := run[g](refused); st != http.StatusBadRequest || out["error"] != errUnauthorizedClient {
			t.Errorf("%s for a client not allowed it: %d %v", g, st, out)
		}
		if st, out := run[g](allowed); st != http.StatusOK || out["access_token"] == nil {
			t.Errorf("%s: %d %v", g, st, out)
		}
	}
	for _, g := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"} {
		st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {g}}, "rp1", e.secrets["rp1"])
		if st != http.StatusBadRequest || out["error"] != errUnsupportedGrant {
			t.Errorf("unadvertised grant %s: %d %v", g, st, out)
		}
	}
}

// clientCall presents one client authentication at an endpoint.
type clientCall struct {
	client *http.Client
	form   url.Values
	user   string
	pass   string
}

// TestMetadataAuthMethods: each advertised client authentication method
// authenticates at every endpoint that lists it, and a wrong credential
// of that method does not.
func TestMetadataAuthMethods(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	svc := e.ca.service(t, "registry.gov.uz")
	e.client("basic", nil)
	e.client("pkj", func(in *ClientInput) { in.AuthMethod, in.JWKS = AuthPrivateKeyJWT, jwkSet(t, k, "k1") })
	e.client("mtls", func(in *ClientInput) { in.AuthMethod, in.TLSSubjectDN = AuthTLSClient, svc.cert.Subject.String() })
	e.client("pub", func(in *ClientInput) { in.AuthMethod = AuthNone })
	id := func(c string) url.Values { return url.Values{"client_id": {c}} }
	// good and bad build a call to the endpoint at path for each method.
	good := map[string]func(path string) clientCall{
		AuthSecretBasic: func(string) clientCall { return clientCall{e.browser(), url.Values{}, "basic", e.secrets["basic"]} },
		AuthSecretPost: func(string) clientCall {
			return clientCall{e.browser(), url.Values{"client_id": {"basic"}, "client_secret": {e.secrets["basic"]}}, "", ""}
		},
		AuthPrivateKeyJWT: func(path string) clientCall {
			a := assertion(t, k, "k1", "pkj", e.issuer+path, randomToken(8), time.Minute)
			return clientCall{e.browser(), url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}}, "", ""}
		},
		AuthTLSClient: func(string) clientCall { return clientCall{e.browser(svc.tlsCert()), id("mtls"), "", ""} },
		AuthNone:      func(string) clientCall { return clientCall{e.browser(), id("pub"), "", ""} },
	}
	bad := map[string]func(path string) clientCall{
		AuthSecretBasic: func(string) clientCall { return clientCall{e.browser(), url.Values{}, "basic", "ycs_wrong"} },
		AuthSecretPost: func(string) clientCall {
			return clientCall{e.browser(), url.Values{"client_id": {"basic"}, "client_secret": {"ycs_wrong"}}, "", ""}
		},
		AuthPrivateKeyJWT: func(path string) clientCall {
			a := assertion(t, other, "k1", "pkj", e.issuer+path, randomToken(8), time.Minute)
			return clientCall{e.browser(), url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}}, "", ""}
		},
		AuthTLSClient: func(string) clientCall { return clientCall{e.browser(), id("mtls"), "", ""} },
		AuthNone:      func(string) clientCall { return clientCall{e.browser(), id("basic"), "", ""} }, // a confidential client without its proof
	}
	// Each endpoint's request past authentication: authenticated, it
	// answers wantStatus (an error of the request, not of the client).
	requests := []struct {
		field, path string
		form        url.Values
		wantStatus  int
	}{
		{"token", pathToken, url.Values{"grant_type": {GrantRefresh}, "refresh_token": {refreshPrefix + "unknown"}}, http.StatusBadRequest},
		{"introspection", pathIntrospect, url.Values{"token": {"unknown"}}, http.StatusOK},
		{"revocation", pathRevoke, url.Values{"token": {"unknown"}}, http.StatusOK},
		{"pushed_authorization_request", pathPAR, url.Values{}, http.StatusBadRequest}, // no response_type
	}
	for _, rq := range requests {
		methods := endpointAuthMethods // RFC 9126 §2: the token endpoint's methods
		if rq.field != "pushed_authorization_request" {
			methods = strs(t, md, rq.field+"_endpoint_auth_methods_supported")
		}
		for _, m := range methods {
			if good[m] == nil {
				t.Fatalf("advertised method %s has no test", m)
			}
			for name, call := range map[string]clientCall{"good": good[m](rq.path), "bad": bad[m](rq.path)} {
				form := url.Values{}
				for k, v := range rq.form {
					form[k] = v
				}
				for k, v := range call.form {
					form[k] = v
				}
				st, out := postForm(t, call.client, e.issuer+rq.path, form, call.user, call.pass)
				if name == "good" && st != rq.wantStatus || name == "bad" && (st != http.StatusUnauthorized || out["error"] != errInvalidClient) {
					t.Errorf("%s at %s, %s credential: %d %v", m, rq.field, name, st, out)
				}
			}
		}
	}
}

// TestMetadataAssertionAlgs: a client assertion signed with each
// advertised algorithm authenticates; HS256 (with the key as secret) does
// not.
func TestMetadataAssertionAlgs(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathOAuthMetadata)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFor := func(alg string) crypto.Signer {
		switch {
		case alg == "ES256":
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return k
		case alg == "ES384":
			k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			return k
		case alg == "ES512":
			k, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
			return k
		case alg == "EdDSA":
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			return k
		case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
			return rsaKey
		}
		t.Fatalf("advertised algorithm %s has no test", alg)
		return nil
	}
	call := func(id, alg string, key any) (int, map[string]any) {
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.RegisteredClaims{Issuer: id, Subject: id, Audience: jwt.ClaimStrings{e.issuer},
			ID: randomToken(8), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Minute))})
		a, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return postForm(t, e.browser(), e.issuer+pathIntrospect, url.Values{"token": {"x"}, "client_assertion_type": {assertionType}, "client_assertion": {a}}, "", "")
	}
	for _, alg := range strs(t, md, "token_endpoint_auth_signing_alg_values_supported") {
		k := keyFor(alg)
		id := "alg-" + strings.ToLower(alg)
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), Algorithm: alg, Use: "sig"}}})
		e.client(id, func(in *ClientInput) { in.AuthMethod, in.JWKS = AuthPrivateKeyJWT, set })
		if st, out := call(id, alg, k); st != http.StatusOK {
			t.Errorf("%s: %d %v", alg, st, out)
		}
	}
	if st, _ := call("alg-es256", "HS256", []byte("a shared secret nobody registered")); st != http.StatusUnauthorized {
		t.Errorf("HS256 assertion: %d", st)
	}
}

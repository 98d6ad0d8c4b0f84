package idp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	logincms "github.com/yagona/yagona/idp/login/cms"
	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
	"github.com/yagona/yagona/pkg/trust"
)

// Policy OIDs of the test CA's profiles.
const (
	polCitizen  = "2.999.1.1"
	polOfficial = "2.999.1.3"
	polNoLogin  = "2.999.1.9"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type memKeys struct {
	mu   sync.Mutex
	keys map[string]crypto.Signer
}

func (m *memKeys) Create(uri string) (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[uri]; ok {
		return nil, fmt.Errorf("key %s exists", uri)
	}
	m.keys[uri] = k
	return k, nil
}

func (m *memKeys) Load(uri string) (crypto.Signer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[uri]
	if !ok {
		return nil, fmt.Errorf("no key %s", uri)
	}
	return k, nil
}

// testCA is a root and an issuing CA making login certificates.
type testCA struct {
	root, issuing *x509.Certificate
	rootKey, key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	now := time.Now()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Root"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	root := mustCert(t, rt, rt, &rk.PublicKey, rk)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	it := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " Issuing"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(5 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	return &testCA{root: root, issuing: mustCert(t, it, root, &ik.PublicKey, rk), rootKey: rk, key: ik}
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// holder is a person with a key and certificate.
type holder struct {
	cert  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
	pinfl string
}

type leafOpt func(*x509.Certificate)

func withPolicy(oid string) leafOpt {
	return func(c *x509.Certificate) {
		o, _ := x509.ParseOID(oid)
		c.Policies = []x509.OID{o}
	}
}
func withEKU(eku ...x509.ExtKeyUsage) leafOpt {
	return func(c *x509.Certificate) { c.ExtKeyUsage = eku }
}
func withValidity(from, to time.Time) leafOpt {
	return func(c *x509.Certificate) { c.NotBefore, c.NotAfter = from, to }
}
func withOCSP(url string) leafOpt { return func(c *x509.Certificate) { c.OCSPServer = []string{url} } }

func withOrg(tin, org, title string) leafOpt {
	return func(c *x509.Certificate) {
		c.Subject.Organization = []string{org}
		c.Subject.ExtraNames = append(c.Subject.ExtraNames, pkix.AttributeTypeAndValue{Type: ident.OIDOrganizationIdentifier, Value: "NTRUZ-" + tin},
			pkix.AttributeTypeAndValue{Type: ident.OIDTitle, Value: title})
	}
}

var serials struct {
	mu sync.Mutex
	n  int64
}

func (ca *testCA) person(t testing.TB, pinfl, given, surname string, opts ...leafOpt) *holder {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serials.mu.Lock()
	serials.n++
	sn := big.NewInt(1000 + serials.n)
	serials.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: sn, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		Subject: pkix.Name{CommonName: given + " " + surname, SerialNumber: "PNOUZ-" + pinfl, Country: []string{"UZ"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: given}, {Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: surname}}},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}}
	withPolicy(polCitizen)(tmpl)
	for _, o := range opts {
		o(tmpl)
	}
	return &holder{cert: mustCert(t, tmpl, ca.issuing, &k.PublicKey, ca.key), chain: []*x509.Certificate{ca.issuing}, key: k, pinfl: pinfl}
}

// service is a relying party's TLS client certificate (no person).
func (ca *testCA) service(t testing.TB, name string) *holder {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serials.mu.Lock()
	serials.n++
	sn := big.NewInt(1000 + serials.n)
	serials.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: sn, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		Subject: pkix.Name{CommonName: name, Organization: []string{"Service Org"}}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return &holder{cert: mustCert(t, tmpl, ca.issuing, &k.PublicKey, ca.key), chain: []*x509.Certificate{ca.issuing}, key: k}
}

func (h *holder) tlsCert() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{h.cert.Raw, h.chain[0].Raw}, PrivateKey: h.key, Leaf: h.cert}
}

// env is a provider on a TLS test server.
type env struct {
	t       *testing.T
	p       *Provider
	srv     *httptest.Server
	clock   *clock
	ca      *testCA
	st      store.Store
	cache   cache.Cache
	mu      sync.Mutex
	status  map[string]trust.State // serial hex -> status
	issuer  string
	secrets map[string]string // client id -> secret
	logouts chan url.Values   // back-channel logout deliveries
	rp      *httptest.Server  // back-channel logout receiver
}

type backend struct {
	name  string
	store func(t *testing.T) store.Store
	cache func(t *testing.T) cache.Cache
}

func backends(t *testing.T) []backend {
	bs := []backend{{"sqlite+memory", func(t *testing.T) store.Store {
		s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "y.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, func(t *testing.T) cache.Cache { return cache.NewMemory(time.Now) }}}
	if os.Getenv("YAGONA_TEST_POSTGRES_URL") != "" && os.Getenv("YAGONA_TEST_REDIS_URL") != "" {
		bs = append(bs, backend{"postgres+redis", func(t *testing.T) store.Store {
			s, err := store.Open(context.Background(), storetest.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}, func(t *testing.T) cache.Cache {
			c, err := cache.OpenRedis(context.Background(), os.Getenv("YAGONA_TEST_REDIS_URL"), "idptest:"+randomToken(8)+":")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}})
	} else {
		t.Log("PostgreSQL+Redis variant skipped: YAGONA_TEST_POSTGRES_URL and YAGONA_TEST_REDIS_URL unset")
	}
	return bs
}

func newEnv(t *testing.T, b backend, mod ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}, ca: newTestCA(t, "Test"), status: map[string]trust.State{}, secrets: map[string]string{},
		logouts: make(chan url.Values, 16)}
	e.st, e.cache = b.store(t), b.cache(t)
	e.rp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.logouts <- r.PostForm
	}))
	t.Cleanup(e.rp.Close)
	e.srv = httptest.NewUnstartedServer(nil)
	e.issuer = "https://" + e.srv.Listener.Addr().String()
	cfg := Config{Issuer: e.issuer, Store: e.st, Cache: e.cache, Keys: &memKeys{keys: map[string]crypto.Signer{}},
		Certs: &CertChecker{Trust: mustTrust(t, trust.Anchor{Name: "test", Root: e.ca.root, Intermediates: []*x509.Certificate{e.ca.issuing},
			Status: e}),
			Policies:  map[string]LoginPolicy{polCitizen: {ACR: ACRSubstantial}, polOfficial: {ACR: ACRHigh, AMR: []string{"pop", "hwk"}}},
			MethodCap: map[string]string{MethodForwarded: ACRSubstantial}},
		SubjectSecret: bytes.Repeat([]byte{7}, 32), Now: e.clock.Now, AgentURL: "http://127.0.0.1:8765", TLSLogin: true,
		FailuresPerMinute: 1000}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	mux := http.NewServeMux()
	p.Register(mux)
	e.srv.Config.Handler = mux
	e.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

// Status is the test CA's records, a trust.StatusSource.
func (e *env) Status(_ context.Context, cert, _ *x509.Certificate) (trust.Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.status[cert.SerialNumber.Text(16)]; ok {
		return trust.Status{State: st, Time: e.clock.Now(), Source: trust.SourceRecords}, nil
	}
	return trust.Status{State: trust.Good, Source: trust.SourceRecords}, nil
}

func mustTrust(t testing.TB, anchors ...trust.Anchor) *trust.Verifier {
	t.Helper()
	v, err := trust.NewVerifier(anchors...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) setStatus(h *holder, st trust.State) {
	e.mu.Lock()
	e.status[h.cert.SerialNumber.Text(16)] = st
	e.mu.Unlock()
}

// client registers a confidential client with one redirect URI.
func (e *env) client(id string, mod func(*ClientInput)) *RegisteredClient {
	e.t.Helper()
	in := ClientInput{ID: id, Name: "Service " + id, RedirectURIs: []string{"https://rp.example/cb"},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye"}, Scopes: []string{"openid", "profile", "pinfl", "organization"},
		GrantTypes: []string{GrantCode, GrantRefresh}, BackchannelLogoutURI: ""}
	if mod != nil {
		mod(&in)
	}
	rc, err := e.p.RegisterClient(context.Background(), in, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets[id] = rc.Secret
	return rc
}

// browser is an HTTP client with its own cookies that does not follow
// redirects.
func (e *env) browser(certs ...tls.Certificate) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = certs
	return &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := randomToken(32)
	s := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(s[:])}
}

func (e *env) authorizeURL(clientID string, pk pkce, extra url.Values) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {"https://rp.example/cb"}, "response_type": {"code"},
		"scope": {"openid profile pinfl"}, "state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {pk.challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return e.issuer + pathAuthorize + "?" + q.Encode()
}

// get performs a GET and returns status, Location and body.
func do(t *testing.T, c *http.Client, req *http.Request) (int, string, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), b
}

func get(t *testing.T, c *http.Client, u string) (int, string, []byte) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return do(t, c, req)
}

func postJSON(t *testing.T, c *http.Client, u string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	st, _, body := do(t, c, req)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return st, out
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	st, _, body := do(t, c, req)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return st, out
}

// startLogin follows authorize to the login page and returns the request id.
func (e *env) startLogin(b *http.Client, u string) string {
	e.t.Helper()
	st, loc, body := get(e.t, b, u)
	if st != http.StatusFound || !strings.HasPrefix(loc, pathLogin+"?request=") {
		e.t.Fatalf("authorize: %d %q %s", st, loc, body)
	}
	return strings.TrimPrefix(loc, pathLogin+"?request=")
}

func (e *env) challenge(b *http.Client, id string) string {
	e.t.Helper()
	st, out := postJSON(e.t, b, e.issuer+logincms.PathChallenge, map[string]string{"request": id})
	if st != http.StatusOK {
		e.t.Fatalf("challenge: %d %v", st, out)
	}
	return out["to_sign"].(string)
}

func sign(t testing.TB, h *holder, content string, detached bool) string {
	t.Helper()
	at := time.Now()
	if at.After(h.cert.NotAfter) {
		at = h.cert.NotAfter.Add(-time.Second) // an expired certificate still signs: the provider must refuse it
	}
	der, err := cms.Sign([]byte(content), h.cert, h.chain, h.key, detached, at)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// loginCMS runs the challenge login and returns the status and answer.
func (e *env) loginCMS(b *http.Client, id string, h *holder) (int, map[string]any) {
	e.t.Helper()
	toSign := e.challenge(b, id)
	return postJSON(e.t, b, e.issuer+logincms.PathCertificate, map[string]string{"request": id, "signature": sign(e.t, h, toSign, false)})
}

// code runs authorize and login to the code.
func (e *env) code(b *http.Client, clientID string, h *holder, pk pkce, extra url.Values) string {
	e.t.Helper()
	id := e.startLogin(b, e.authorizeURL(clientID, pk, extra))
	st, out := e.loginCMS(b, id, h)
	if st != http.StatusOK {
		e.t.Fatalf("login: %d %v", st, out)
	}
	return codeFrom(e.t, out["redirect"].(string))
}

func codeFrom(t *testing.T, redirect string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("no code in %q", redirect)
	}
	return u.Query().Get("code")
}

func (e *env) exchange(clientID, code string, pk pkce) (int, map[string]any) {
	e.t.Helper()
	return postForm(e.t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://rp.example/cb"}, "code_verifier": {pk.verifier}}, clientID, e.secrets[clientID])
}

func (e *env) introspect(clientID, tok string) map[string]any {
	e.t.Helper()
	st, out := postForm(e.t, e.browser(), e.issuer+pathIntrospect, url.Values{"token": {tok}}, clientID, e.secrets[clientID])
	if st != http.StatusOK {
		e.t.Fatalf("introspect: %d %v", st, out)
	}
	return out
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

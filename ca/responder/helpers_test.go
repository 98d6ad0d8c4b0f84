package responder

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var errMiss = errors.New("test cache: miss")

// mapCache is a trivial Cache: a map behind an RWMutex. Get copies, as
// pkg/cache does. setHook, if set, runs before each Set stores.
type mapCache struct {
	mu      sync.RWMutex
	m       map[string][]byte
	sets    atomic.Int64
	setHook func(key string)
}

func newMapCache() *mapCache { return &mapCache{m: map[string][]byte{}} }

func (c *mapCache) Get(_ context.Context, k string) ([]byte, error) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if !ok {
		return nil, errMiss
	}
	return append([]byte(nil), v...), nil
}

func (c *mapCache) Set(_ context.Context, k string, v []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("test cache: ttl must be positive")
	}
	if c.setHook != nil {
		c.setHook(k)
	}
	c.mu.Lock()
	c.m[k] = append([]byte(nil), v...)
	c.mu.Unlock()
	c.sets.Add(1)
	return nil
}

func (c *mapCache) Delete(_ context.Context, k string) error {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
	return nil
}

func (c *mapCache) keys() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ks []string
	for k := range c.m {
		ks = append(ks, k)
	}
	return ks
}

// mapSource answers from a map. hook, if set, runs after the status is
// read and before it is returned: a test can block there, holding a status
// that is about to go stale.
type mapSource struct {
	mu    sync.Mutex
	m     map[string]CertStatus
	calls atomic.Int64
	err   error
	hook  func(call int64)
}

func newMapSource() *mapSource { return &mapSource{m: map[string]CertStatus{}} }

func (s *mapSource) OCSPStatus(_ context.Context, serial *big.Int) (CertStatus, error) {
	n := s.calls.Add(1)
	s.mu.Lock()
	st, ok := s.m[serial.Text(16)]
	err, hook := s.err, s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if err != nil {
		return CertStatus{}, err
	}
	if !ok {
		return CertStatus{Status: Unknown}, nil
	}
	return st, nil
}

func (s *mapSource) set(serial *big.Int, st CertStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[serial.Text(16)] = st
}

func (s *mapSource) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *mapSource) setHook(h func(int64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// pki is a throwaway CA: an issuer, its delegated OCSP signer (EKU
// OCSPSigning and id-pkix-ocsp-nocheck), leaves, and an unrelated CA.
type pki struct {
	issuer, responder, other *x509.Certificate
	leaves                   []*x509.Certificate
	issuerKey, key           crypto.Signer
}

var oidNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

func mkCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
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

func mkKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func caTemplate(cn string, serial int64) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Yagona test"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	now := time.Now()
	caKey := mkKey(t)
	caT := caTemplate("Yagona Test Issuing CA", 1)
	p := &pki{issuerKey: caKey}
	p.issuer = mkCert(t, caT, caT, caKey.Public(), caKey)
	rKey := mkKey(t)
	p.key = rKey
	p.responder = mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Yagona Test OCSP Responder"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		ExtraExtensions: []pkix.Extension{{Id: oidNoCheck, Value: []byte{5, 0}}}}, p.issuer, rKey.Public(), caKey)
	for i, serial := range []*big.Int{new(big.Int).SetBytes([]byte{0x4a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}),
		big.NewInt(0x1234567890), big.NewInt(0x1234567891)} {
		lKey := mkKey(t)
		p.leaves = append(p.leaves, mkCert(t, &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "leaf " + string(rune('a'+i))},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, p.issuer, lKey.Public(), caKey))
	}
	otherKey := mkKey(t)
	oT := caTemplate("Other CA", 3)
	p.other = mkCert(t, oT, oT, otherKey.Public(), otherKey)
	return p
}

func (p *pki) leaf() *x509.Certificate { return p.leaves[0] }

type fixture struct {
	*pki
	r     *Responder
	src   *mapSource
	cache *mapCache
	now   atomic.Pointer[time.Time]
}

func newFixture(t testing.TB, cfg ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{pki: newPKI(t), src: newMapSource(), cache: newMapCache()}
	now := time.Now()
	f.now.Store(&now)
	for _, l := range f.leaves {
		f.src.set(l.SerialNumber, CertStatus{Status: Good})
	}
	c := Config{Issuer: f.issuer, ResponderCert: f.responder, Signer: f.key, Now: func() time.Time { return *f.now.Load() }, Miss: errMiss}
	for _, fn := range cfg {
		fn(&c)
	}
	r, err := New(c, f.src, f.cache)
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	return f
}

func (f *fixture) advance(d time.Duration) {
	now := f.now.Load().Add(d)
	f.now.Store(&now)
}

// request makes a request for leaf with x/crypto/ocsp (no nonce).
func (f *fixture) request(t testing.TB, leaf *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(leaf, f.issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// parse checks der is a successful response for leaf, signed by the
// delegated responder, which it carries.
func (f *fixture) parse(t testing.TB, der []byte, leaf *x509.Certificate) *ocsp.Response {
	t.Helper()
	resp, err := ocsp.ParseResponseForCert(der, leaf, f.issuer)
	if err != nil {
		t.Fatalf("parse response: %v", err)
	}
	if resp.Certificate == nil || !resp.Certificate.Equal(f.responder) {
		t.Fatal("response does not carry the responder certificate")
	}
	return resp
}

// respStatus is the OCSPResponseStatus of der: ocsp.Success for a
// parseable successful response, -1 for something unparseable.
func respStatus(der []byte) ocsp.ResponseStatus {
	_, err := ocsp.ParseResponse(der, nil)
	if err == nil {
		return ocsp.Success
	}
	var re ocsp.ResponseError
	if errors.As(err, &re) {
		return re.Status
	}
	return -1
}

// ASN.1 to build requests of any shape.
type tRequest struct {
	TBS tTBS
}

type tTBS struct {
	List []tSingle
	Exts []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type tSingle struct {
	CertID asn1.RawValue
	Exts   []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

// certIDOf is the raw CertID of a request made by x/crypto/ocsp.
func certIDOf(t testing.TB, req []byte) asn1.RawValue {
	t.Helper()
	var r tRequest
	if rest, err := asn1.Unmarshal(req, &r); err != nil || len(rest) != 0 || len(r.TBS.List) != 1 {
		t.Fatalf("cannot take apart request: %v", err)
	}
	return r.TBS.List[0].CertID
}

func build(t testing.TB, r tRequest) []byte {
	t.Helper()
	der, err := asn1.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withNonce is req with a request-level nonce extension whose extnValue is
// value.
func withNonce(t testing.TB, req, value []byte) []byte {
	t.Helper()
	return build(t, tRequest{TBS: tTBS{List: []tSingle{{CertID: certIDOf(t, req)}}, Exts: []pkix.Extension{{Id: oidNonce, Value: value}}}})
}

// wrapped is an OCTET STRING holding b, as OpenSSL puts a nonce in the
// extnValue.
func wrapped(t testing.TB, b []byte) []byte {
	t.Helper()
	der, err := asn1.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// responseExtensions decodes a response's responseExtensions, which
// x/crypto/ocsp does not expose.
func responseExtensions(t testing.TB, der []byte) []pkix.Extension {
	t.Helper()
	var outer struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS   asn1.RawValue
		Alg   pkix.AlgorithmIdentifier
		Sig   asn1.BitString
		Certs []asn1.RawValue `asn1:"explicit,tag:0,optional"`
	}
	var rd responseData
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(outer.Bytes.Response, &basic); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &rd); err != nil {
		t.Fatal(err)
	}
	return rd.Extensions
}

func nonceOf(t testing.TB, der []byte) []byte {
	t.Helper()
	for _, e := range responseExtensions(t, der) {
		if e.Id.Equal(oidNonce) {
			return e.Value
		}
	}
	return nil
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

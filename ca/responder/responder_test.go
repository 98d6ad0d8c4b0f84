package responder

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// mapCache is a trivial Cache for tests.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	sets int
}

func (c *mapCache) Get(_ context.Context, k string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if !ok {
		return nil, errors.New("miss")
	}
	return v, nil
}

func (c *mapCache) Set(_ context.Context, k string, v []byte, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = append([]byte(nil), v...)
	c.sets++
	return nil
}

func (c *mapCache) Delete(_ context.Context, k string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
	return nil
}

// mapSource answers from a map; block, if set, is waited on once per call.
type mapSource struct {
	mu    sync.Mutex
	m     map[string]CertStatus
	calls int
	block chan struct{}
	err   error
}

func (s *mapSource) OCSPStatus(_ context.Context, serial *big.Int) (CertStatus, error) {
	s.mu.Lock()
	st, ok := s.m[serial.Text(16)]
	s.calls++
	block, err := s.block, s.err
	s.mu.Unlock()
	if block != nil {
		<-block
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

type pki struct {
	issuer, responder, leaf, other *x509.Certificate
	key                            crypto.Signer
}

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

func newPKI(t testing.TB) *pki {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	ca := mkCert(t, caT, caT, caKey.Public(), caKey)
	rKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "OCSP"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}, Value: []byte{5, 0}}}}
	lKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lT := &x509.Certificate{SerialNumber: big.NewInt(0x1234567890), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	oT := *caT
	oT.Subject = pkix.Name{CommonName: "Other CA"}
	return &pki{issuer: ca, responder: mkCert(t, rT, ca, rKey.Public(), caKey), leaf: mkCert(t, lT, ca, lKey.Public(), caKey),
		other: mkCert(t, &oT, &oT, otherKey.Public(), otherKey), key: rKey}
}

type fixture struct {
	*pki
	r     *Responder
	src   *mapSource
	cache *mapCache
	now   time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p := newPKI(t)
	f := &fixture{pki: p, src: &mapSource{m: map[string]CertStatus{}}, cache: &mapCache{m: map[string][]byte{}}, now: time.Now()}
	f.src.set(p.leaf.SerialNumber, CertStatus{Status: Good})
	r, err := New(Config{Issuer: p.issuer, ResponderCert: p.responder, Signer: p.key, Now: func() time.Time { return f.now }}, f.src, f.cache)
	if err != nil {
		t.Fatal(err)
	}
	f.r = r
	return f
}

func (f *fixture) request(t testing.TB, h crypto.Hash) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(f.leaf, f.issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (f *fixture) parse(t testing.TB, der []byte) *ocsp.Response {
	t.Helper()
	resp, err := ocsp.ParseResponseForCert(der, f.leaf, f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func respErr(der []byte) ocsp.ResponseError {
	_, err := ocsp.ParseResponse(der, nil)
	var re ocsp.ResponseError
	if errors.As(err, &re) {
		return re
	}
	return ocsp.ResponseError{Status: -1}
}

func TestStatuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	revokedAt := f.now.Add(-time.Hour).Truncate(time.Second)
	steps := []struct {
		name   string
		status CertStatus
		want   int
		reason int
	}{
		{"good", CertStatus{Status: Good}, ocsp.Good, 0},
		{"hold", CertStatus{Status: Revoked, RevokedAt: revokedAt, Reason: ocsp.CertificateHold}, ocsp.Revoked, ocsp.CertificateHold},
		{"good again", CertStatus{Status: Good}, ocsp.Good, 0},
		{"revoked", CertStatus{Status: Revoked, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise}, ocsp.Revoked, ocsp.KeyCompromise},
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, s := range steps {
			f.src.set(f.leaf.SerialNumber, s.status)
			if err := f.r.Invalidate(ctx, f.leaf.SerialNumber); err != nil {
				t.Fatal(err)
			}
			der, _ := f.r.Respond(ctx, f.request(t, h))
			resp := f.parse(t, der)
			if resp.Status != s.want || resp.RevocationReason != s.reason || resp.IssuerHash != h {
				t.Fatalf("%v %s: status %d reason %d hash %v", h, s.name, resp.Status, resp.RevocationReason, resp.IssuerHash)
			}
			if s.want == ocsp.Revoked && !resp.RevokedAt.Equal(revokedAt) {
				t.Fatalf("revoked at %v, want %v", resp.RevokedAt, revokedAt)
			}
			if !resp.NextUpdate.After(resp.ThisUpdate) || resp.Certificate == nil {
				t.Fatalf("times %v..%v, cert %v", resp.ThisUpdate, resp.NextUpdate, resp.Certificate)
			}
		}
	}
	// A serial never issued is unknown.
	other := *f.leaf
	other.SerialNumber = big.NewInt(99)
	der, _ := ocsp.CreateRequest(&other, f.issuer, nil)
	resp, _ := f.r.Respond(ctx, der)
	if got, err := ocsp.ParseResponse(resp, f.issuer); err != nil || got.Status != ocsp.Unknown {
		t.Fatalf("unknown serial: %v %v", got, err)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	good := f.request(t, crypto.SHA1)
	two := func() []byte { // two requests in the list
		var req struct {
			TBS struct {
				List []asn1.RawValue
			}
		}
		if _, err := asn1.Unmarshal(good, &req); err != nil {
			t.Fatal(err)
		}
		req.TBS.List = append(req.TBS.List, req.TBS.List[0])
		b, _ := asn1.Marshal(req)
		return b
	}()
	otherIssuer, _ := ocsp.CreateRequest(f.leaf, f.other, nil)
	cases := []struct {
		name string
		der  []byte
		want ocsp.ResponseStatus
	}{
		{"empty", nil, ocsp.Malformed},
		{"garbage", []byte("hello, responder"), ocsp.Malformed},
		{"truncated", good[:len(good)-3], ocsp.Malformed},
		{"trailing", append(append([]byte{}, good...), 0), ocsp.Malformed},
		{"two requests", two, ocsp.Malformed},
		{"other issuer", otherIssuer, ocsp.Unauthorized},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 1000), ocsp.Malformed},
	}
	for _, c := range cases {
		der, err := f.r.Respond(context.Background(), c.der)
		if err != nil {
			t.Fatal(err)
		}
		if got := respErr(der); got.Status != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got.Status, c.want)
		}
	}
	f.src.err = errors.New("database down")
	f.r.Invalidate(context.Background(), f.leaf.SerialNumber)
	der, _ := f.r.Respond(context.Background(), good)
	if got := respErr(der); got.Status != ocsp.TryLater {
		t.Errorf("source error: got %v, want tryLater", got.Status)
	}
}

func TestNonce(t *testing.T) {
	f := newFixture(t)
	base := f.request(t, crypto.SHA1)
	// Add a requestExtensions [2] with a nonce as OpenSSL does (OCTET
	// STRING inside extnValue).
	var req struct {
		TBS struct {
			List []asn1.RawValue
			Exts []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	if _, err := asn1.Unmarshal(base, &req); err != nil {
		t.Fatal(err)
	}
	nonce, _ := asn1.Marshal([]byte("0123456789abcdef"))
	req.TBS.Exts = []pkix.Extension{{Id: oidNonce, Value: nonce}}
	withNonce, _ := asn1.Marshal(req)
	for range 2 {
		der, _ := f.r.Respond(context.Background(), withNonce)
		f.parse(t, der)
		var echoed []byte
		for _, e := range responseExtensions(t, der) {
			if e.Id.Equal(oidNonce) {
				echoed = e.Value
			}
		}
		if !bytes.Equal(echoed, nonce) {
			t.Fatalf("nonce %x echoed as %x", nonce, echoed)
		}
	}
	if f.cache.sets != 0 {
		t.Fatalf("nonce responses were cached %d times", f.cache.sets)
	}
	long, _ := asn1.Marshal(bytes.Repeat([]byte{1}, 40))
	req.TBS.Exts = []pkix.Extension{{Id: oidNonce, Value: long}}
	tooLong, _ := asn1.Marshal(req)
	der, _ := f.r.Respond(context.Background(), tooLong)
	if respErr(der).Status != ocsp.Malformed {
		t.Fatal("oversized nonce accepted")
	}
	req.TBS.Exts = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}}
	crit, _ := asn1.Marshal(req)
	der, _ = f.r.Respond(context.Background(), crit)
	if respErr(der).Status != ocsp.Malformed {
		t.Fatal("unknown critical extension accepted")
	}
}

func TestCacheAndInvalidate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(t, crypto.SHA256)
	a, _ := f.r.Respond(ctx, req)
	b, _ := f.r.Respond(ctx, req)
	if !bytes.Equal(a, b) || f.src.calls != 1 {
		t.Fatalf("second answer not from cache (source called %d times)", f.src.calls)
	}
	f.src.set(f.leaf.SerialNumber, CertStatus{Status: Revoked, RevokedAt: f.now, Reason: 1})
	if err := f.r.Invalidate(ctx, f.leaf.SerialNumber); err != nil {
		t.Fatal(err)
	}
	c, _ := f.r.Respond(ctx, req)
	if f.parse(t, c).Status != ocsp.Revoked {
		t.Fatal("stale good after invalidate")
	}
	// An expired cache entry is not served.
	f.now = f.now.Add(2 * time.Hour)
	f.src.set(f.leaf.SerialNumber, CertStatus{Status: Good})
	d, _ := f.r.Respond(ctx, req)
	if f.parse(t, d).Status != ocsp.Good {
		t.Fatal("served an answer past its nextUpdate")
	}
}

// TestInvalidateRace: a miss that read "good" before a revocation was
// committed must not cache its stale answer after Invalidate ran.
func TestInvalidateRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(t, crypto.SHA1)
	f.src.block = make(chan struct{})
	done := make(chan []byte)
	go func() {
		der, _ := f.r.Respond(ctx, req) // reads "good", then blocks
		done <- der
	}()
	for {
		f.src.mu.Lock()
		calls := f.src.calls
		f.src.mu.Unlock()
		if calls == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.src.mu.Lock()
	f.src.m[f.leaf.SerialNumber.Text(16)] = CertStatus{Status: Revoked, RevokedAt: f.now, Reason: 1}
	f.src.mu.Unlock()
	if err := f.r.Invalidate(ctx, f.leaf.SerialNumber); err != nil {
		t.Fatal(err)
	}
	close(f.src.block)
	<-done
	f.src.mu.Lock()
	f.src.block = nil
	f.src.mu.Unlock()
	der, _ := f.r.Respond(ctx, req)
	if f.parse(t, der).Status != ocsp.Revoked {
		t.Fatal("stale good answer was cached after invalidation")
	}
}

func TestHTTP(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(http.StripPrefix("/ocsp", f.r))
	defer srv.Close()
	req := f.request(t, crypto.SHA1)
	get := func(path string) (*http.Response, []byte) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	enc := base64.StdEncoding.EncodeToString(req)
	for _, path := range []string{"/ocsp/" + strings.ReplaceAll(enc, "+", "%2B"), "/ocsp/" + strings.TrimRight(enc, "=")} {
		resp, body := get(path)
		if resp.StatusCode != 200 || f.parse(t, body).Status != ocsp.Good {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, h := range []string{"Last-Modified", "Expires", "ETag"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("missing %s", h)
			}
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "public, no-transform, must-revalidate") {
			t.Errorf("Cache-Control = %q", cc)
		}
		if resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/ocsp/", "/ocsp/!!!notbase64", "/ocsp/" + base64.StdEncoding.EncodeToString([]byte("junk"))} {
		resp, body := get(path)
		if resp.StatusCode != 200 || respErr(body).Status != ocsp.Malformed || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d %v", path, resp.StatusCode, respErr(body).Status)
		}
	}
	// POST, oversized POST, wrong method.
	resp, err := http.Post(srv.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err, resp)
	}
	resp.Body.Close()
	resp, _ = http.Post(srv.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(make([]byte, 20<<10)))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || respErr(body).Status != ocsp.Malformed {
		t.Errorf("oversized POST: %d %v", resp.StatusCode, respErr(body).Status)
	}
	r, _ := http.NewRequest("DELETE", srv.URL+"/ocsp", nil)
	resp, _ = http.DefaultClient.Do(r)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
}

func BenchmarkRespondCached(b *testing.B) {
	f := newFixture(b)
	req := f.request(b, crypto.SHA1)
	ctx := context.Background()
	f.r.Respond(ctx, req)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.r.Respond(ctx, req)
		}
	})
}

func BenchmarkParseRequest(b *testing.B) {
	f := newFixture(b)
	req := f.request(b, crypto.SHA1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// responseExtensions decodes responseExtensions, which x/crypto/ocsp does
// not expose.
func responseExtensions(t *testing.T, der []byte) []pkix.Extension {
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

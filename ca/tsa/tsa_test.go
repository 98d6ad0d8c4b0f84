package tsa

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

var policy = asn1.ObjectIdentifier{2, 999, 860, 2, 1}

type fixture struct {
	root, issuing, tsaCert *x509.Certificate
	key                    crypto.Signer
	t                      *TSA
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "TSA Test Root"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, rt, rt, &rk.PublicKey, rk)
	root, _ := x509.ParseCertificate(der)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	it := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "TSA Test Issuing CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ = x509.CreateCertificate(rand.Reader, it, root, &ik.PublicKey, rk)
	issuing, _ := x509.ParseCertificate(der)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	tt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test TSA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	der, err := x509.CreateCertificate(rand.Reader, tt, issuing, &k.PublicKey, ik)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ts, err := New(Config{Cert: cert, Issuers: []*x509.Certificate{issuing}, Signer: k, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{root: root, issuing: issuing, tsaCert: cert, key: k, t: ts}
}

func TestRefusesWrongCertificate(t *testing.T) {
	f := newFixture(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := New(Config{Cert: f.tsaCert, Signer: other, Policy: policy}); err == nil {
		t.Fatal("a key not matching the certificate was accepted")
	}
	if _, err := New(Config{Cert: f.root, Signer: f.key, Policy: policy}); err == nil {
		t.Fatal("a certificate without timeStamping was accepted")
	}
}

func request(t testing.TB, h crypto.Hash, digest []byte, opts func(*timestamp.Request)) []byte {
	t.Helper()
	r := &timestamp.Request{HashAlgorithm: h, HashedMessage: digest, Certificates: true, Nonce: big.NewInt(424242)}
	if opts != nil {
		opts(r)
	}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGranted(t *testing.T) {
	f := newFixture(t)
	sum := sha256.Sum256([]byte("a decision"))
	resp, err := f.t.Respond(request(t, crypto.SHA256, sum[:], nil))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ts.HashedMessage, sum[:]) || ts.Nonce.Int64() != 424242 || !ts.Policy.Equal(policy) || ts.Accuracy != time.Second ||
		ts.SerialNumber.BitLen() < 100 {
		t.Fatalf("token %+v", ts)
	}
	// certReq: the TSA certificate and its issuing CA.
	if len(ts.Certificates) != 2 || !ts.Certificates[0].Equal(f.tsaCert) || !ts.Certificates[1].Equal(f.issuing) {
		t.Fatalf("token carries %d certificates, want the TSA's and its issuing CA", len(ts.Certificates))
	}
	noCerts, _ := f.t.Respond(request(t, crypto.SHA256, sum[:], func(r *timestamp.Request) { r.Certificates = false }))
	if ts, err := timestamp.ParseResponse(noCerts); err != nil {
		t.Fatal(err)
	} else if len(ts.Certificates) != 0 {
		t.Fatalf("without certReq the token carries %d certificates", len(ts.Certificates))
	}
	resp2, _ := f.t.Respond(request(t, crypto.SHA256, sum[:], nil))
	ts2, _ := timestamp.ParseResponse(resp2)
	if ts2.SerialNumber.Cmp(ts.SerialNumber) == 0 {
		t.Fatal("two tokens with one serial")
	}
}

func TestRejections(t *testing.T) {
	f := newFixture(t)
	sum := sha256.Sum256([]byte("x"))
	s1 := sha1.Sum([]byte("x"))
	tests := []struct {
		name string
		req  []byte
	}{
		{"garbage", []byte("not a request")},
		{"empty", nil},
		{"sha1", request(t, crypto.SHA1, s1[:], nil)},
		{"short digest", request(t, crypto.SHA256, sum[:10], nil)},
		{"other policy", request(t, crypto.SHA256, sum[:], func(r *timestamp.Request) { r.TSAPolicyOID = asn1.ObjectIdentifier{1, 2, 3} })},
		{"extension", request(t, crypto.SHA256, sum[:], func(r *timestamp.Request) {
			r.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}}}
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.t.Respond(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := timestamp.ParseResponse(resp); err == nil {
				t.Fatal("a bad request was granted")
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.t)
	defer srv.Close()
	sum := sha256.Sum256([]byte("x"))
	for _, tc := range []struct {
		method, ctype string
		body          []byte
		status        int
	}{
		{"POST", "application/timestamp-query", request(t, crypto.SHA256, sum[:], nil), 200},
		{"POST", "application/timestamp-query", []byte("junk"), 200},
		{"GET", "", nil, 405},
		{"POST", "text/plain", []byte("x"), 415},
		{"POST", "application/timestamp-query", make([]byte, 9<<10), 413},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL, bytes.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.ctype, resp.StatusCode, tc.status)
		}
		// Answered with a length, not chunked, though a token with the
		// chain passes net/http's buffer.
		if tc.status == 200 && resp.ContentLength <= 0 {
			t.Errorf("%s %s: no Content-Length", tc.method, tc.ctype)
		}
	}
}

// TestOpenSSLVerifies: openssl ts makes the query and verifies our reply
// trusting only the root: the token carries the TSA's issuing CA.
func TestOpenSSLVerifies(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
	f := newFixture(t)
	dir := t.TempDir()
	w := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	w("doc.txt", []byte("the document"))
	w("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.root.Raw}))
	for _, hash := range []string{"-sha256", "-sha512"} {
		run("ts", "-query", "-data", "doc.txt", hash, "-cert", "-out", "req.tsq")
		req, _ := os.ReadFile(filepath.Join(dir, "req.tsq"))
		resp, err := f.t.Respond(req)
		if err != nil {
			t.Fatal(err)
		}
		w("resp.tsr", resp)
		out := run("ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem")
		if !strings.Contains(out, "Verification: OK") {
			t.Fatalf("%s: %s", hash, out)
		}
		out = run("ts", "-verify", "-in", "resp.tsr", "-data", "doc.txt", "-CAfile", "root.pem")
		if !strings.Contains(out, "Verification: OK") {
			t.Fatalf("%s with data: %s", hash, out)
		}
		text := run("ts", "-reply", "-in", "resp.tsr", "-text")
		for _, want := range []string{"Policy OID: 2.999.860.2.1", "Accuracy: 0x01 seconds", "Nonce: 0x"} {
			if !strings.Contains(text, want) {
				t.Errorf("reply lacks %q:\n%s", want, text)
			}
		}
	}
	// A changed document fails.
	w("other.txt", []byte("another document"))
	cmd := exec.Command("openssl", "ts", "-verify", "-in", "resp.tsr", "-data", "other.txt", "-CAfile", "root.pem")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("openssl verified a token against another document: %s", out)
	}
}

func FuzzRespond(f *testing.F) {
	fx := newFixture(f)
	sum := sha256.Sum256([]byte("x"))
	f.Add(request(f, crypto.SHA256, sum[:], nil))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, err := fx.t.Respond(req)
		if err != nil || len(resp) == 0 {
			t.Fatalf("no answer: %v", err)
		}
	})
}

// BenchmarkRespond: one token, parse to DER answer, on one goroutine.
func BenchmarkRespond(b *testing.B) {
	f := newFixture(b)
	sum := sha256.Sum256([]byte("x"))
	req := request(b, crypto.SHA256, sum[:], nil)
	b.ResetTimer()
	for range b.N {
		if _, err := f.t.Respond(req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRefusesWrongUsage: the TSA's certificate carries exactly the
// extended key usage timeStamping (the trust.Timestamp purpose), and the
// extension is critical (RFC 3161 §2.3); each departure is refused.
func TestRefusesWrongUsage(t *testing.T) {
	f := newFixture(t)
	ts := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	client := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	for _, tc := range []struct {
		name     string
		ekus     []asn1.ObjectIdentifier
		critical bool
		ok       bool
	}{
		{"timeStamping, critical", []asn1.ObjectIdentifier{ts}, true, true},
		{"timeStamping, not critical", []asn1.ObjectIdentifier{ts}, false, false},
		{"timeStamping and clientAuth", []asn1.ObjectIdentifier{ts, client}, true, false},
		{"clientAuth only", []asn1.ObjectIdentifier{client}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eku, _ := asn1.Marshal(tc.ekus)
			now := time.Now()
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Test TSA"}, NotBefore: now.Add(-time.Hour),
				NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
				ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: tc.critical, Value: eku}}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, f.key.Public(), f.key)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(der)
			_, err = New(Config{Cert: cert, Signer: f.key, Policy: policy})
			if (err == nil) != tc.ok {
				t.Fatalf("New = %v; want ok %v", err, tc.ok)
			}
		})
	}
}

package cades

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
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
)

var serial atomic.Int64

func mk(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
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

// fixture is a root that publishes a CRL for its CAs, an issuing CA
// that names it and answers OCSP itself, a signer whose certificate names
// that responder, and a TSA whose certificate does too.
type fixture struct {
	root, issuing, signer, tsa *x509.Certificate
	rootKey, issuingKey        crypto.Signer
	signerKey, tsaKey          crypto.Signer
	ocspURL, tsaURL, crlURL    string
	ocspStatus                 atomic.Int32 // ocsp.Good, ocsp.Revoked
	tsaMode                    atomic.Value // "", "foreign", "down"
	issuingRevoked             atomic.Bool  // the root's CRL lists the issuing CA
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{}
	now := time.Now()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	f.root, f.rootKey = mk(t, ca("Root"), ca("Root"), rk.Public(), rk), rk
	ocspSrv := httptest.NewServer(http.HandlerFunc(f.serveOCSP))
	t.Cleanup(ocspSrv.Close)
	tsaSrv := httptest.NewServer(http.HandlerFunc(f.serveTSA))
	t.Cleanup(tsaSrv.Close)
	crlSrv := httptest.NewServer(http.HandlerFunc(f.serveCRL))
	t.Cleanup(crlSrv.Close)
	f.ocspURL, f.tsaURL, f.crlURL = ocspSrv.URL, tsaSrv.URL, crlSrv.URL+"/root.crl"
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.issuingKey = ik
	it := ca("Issuing")
	it.CRLDistributionPoints = []string{f.crlURL}
	f.issuing = mk(t, it, f.root, ik.Public(), rk)
	sk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.signerKey = sk
	f.signer = mk(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Signer"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageContentCommitment, OCSPServer: []string{f.ocspURL}}, f.issuing, sk.Public(), ik)
	tk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.tsaKey = tk
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	f.tsa = mk(t, &x509.Certificate{Subject: pkix.Name{CommonName: "TSA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, OCSPServer: []string{f.ocspURL},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}},
		f.issuing, tk.Public(), ik)
	f.ocspStatus.Store(int32(ocsp.Good))
	f.tsaMode.Store("")
	return f
}

func (f *fixture) serveOCSP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	now := time.Now()
	resp, err := ocsp.CreateResponse(f.issuing, f.issuing, ocsp.Response{Status: int(f.ocspStatus.Load()), SerialNumber: req.SerialNumber,
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Minute)}, f.issuingKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(resp)
}

// serveCRL answers the root's CRL for its CAs.
func (f *fixture) serveCRL(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	var revoked []x509.RevocationListEntry
	if f.issuingRevoked.Load() {
		revoked = []x509.RevocationListEntry{{SerialNumber: f.issuing.SerialNumber, RevocationTime: now.Add(-time.Minute)}}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: revoked}, f.root, f.rootKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(der)
}

func (f *fixture) serveTSA(w http.ResponseWriter, r *http.Request) {
	mode := f.tsaMode.Load().(string)
	if mode == "down" {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	nonce := req.Nonce
	if mode == "foreign" {
		nonce = new(big.Int).Add(nonce, big.NewInt(1))
	}
	ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(), Nonce: nonce,
		Policy: asn1.ObjectIdentifier{2, 999, 1}, AddTSACertificate: true, Certificates: []*x509.Certificate{f.issuing}}
	resp, err := ts.CreateResponseWithOpts(f.tsa, f.tsaKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(resp)
}

func (f *fixture) sign(t *testing.T, doc []byte) []byte {
	t.Helper()
	sig, err := cms.Sign(doc, f.signer, []*x509.Certificate{f.issuing}, f.signerKey, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestAddTimestamp: a B-T signature carries a token from the TSA over its
// signature value; a foreign or failed answer is refused.
func TestAddTimestamp(t *testing.T) {
	f := newFixture(t)
	doc := []byte("qaror matni")
	ctx := context.Background()
	tests := []struct {
		mode    string
		wantErr error
	}{
		{"", nil},
		{"foreign", ErrForeignTimestamp},
		{"down", nil},
	}
	for _, tc := range tests {
		f.tsaMode.Store(tc.mode)
		out, err := Client{}.AddTimestamp(ctx, f.tsaURL, f.sign(t, doc), doc)
		switch {
		case tc.mode == "":
			if err != nil {
				t.Fatalf("good TSA: %v", err)
			}
			s, err := cms.Verify(out, doc)
			if err != nil || len(s.Signers[0].Timestamps) != 1 {
				t.Fatalf("B-T signature: %v, %d time-stamps", err, len(s.Signers[0].Timestamps))
			}
		case err == nil:
			t.Errorf("%s TSA: accepted", tc.mode)
		case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
			t.Errorf("%s TSA: %v, want %v", tc.mode, err, tc.wantErr)
		}
	}
}

// TestAddOCSP: a B-LT signature carries the responder's good answer for
// the signer; a revoked signer, a chain to another root or a short chain
// is refused.
func TestAddOCSP(t *testing.T) {
	f := newFixture(t)
	doc := []byte("qaror matni")
	ctx := context.Background()
	other := newFixture(t)
	chain := []*x509.Certificate{f.signer, f.issuing}
	tests := []struct {
		name    string
		status  int
		chain   []*x509.Certificate
		roots   []*x509.Certificate
		wantErr error
		ok      bool
	}{
		{"good", ocsp.Good, chain, []*x509.Certificate{f.root}, nil, true},
		{"revoked", ocsp.Revoked, chain, []*x509.Certificate{f.root}, ErrNotGood, false},
		{"another root", ocsp.Good, chain, []*x509.Certificate{other.root}, nil, false},
		{"no issuer", ocsp.Good, chain[:1], []*x509.Certificate{f.root}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.ocspStatus.Store(int32(tc.status))
			out, err := Client{}.AddOCSP(ctx, f.sign(t, doc), tc.chain, tc.roots)
			if !tc.ok {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("got %v, want refusal %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := cms.Verify(out, doc)
			if err != nil || len(s.OCSPResponses) != 1 {
				t.Fatalf("B-LT signature: %v, %d OCSP responses", err, len(s.OCSPResponses))
			}
		})
	}
}

// TestSignerLevels: each level carries what it promises and no more.
func TestSignerLevels(t *testing.T) {
	f := newFixture(t)
	s := Signer{Chain: []*x509.Certificate{f.signer, f.issuing}, Key: f.signerKey, TSA: f.tsaURL, Roots: []*x509.Certificate{f.root}}
	doc := []byte("qaror matni")
	tests := []struct {
		level            string
		detached         bool
		stamps, rs, crls int
	}{
		{"B-B", true, 0, 0, 0},
		{"B-T", true, 1, 0, 0},
		{"B-LT", true, 1, 2, 1}, // OCSP for the signer and the TSA, the root's CRL for the issuing CA
		{"B-LT", false, 1, 2, 1},
		{"B-T", false, 1, 0, 0},
	}
	for _, tc := range tests {
		level, err := ParseLevel(tc.level)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := s.Sign(context.Background(), doc, tc.detached, level)
		if err != nil {
			t.Fatalf("%s: %v", tc.level, err)
		}
		detached := doc
		if !tc.detached {
			detached = nil
		}
		p, err := cms.Verify(sig, detached)
		if err != nil || len(p.Signers[0].Timestamps) != tc.stamps || len(p.OCSPResponses) != tc.rs || len(p.CRLs) != tc.crls ||
			p.Detached != tc.detached {
			t.Errorf("%s detached=%v: %v, %d time-stamps, %d OCSP responses, %d CRLs", tc.level, tc.detached, err, len(p.Signers[0].Timestamps),
				len(p.OCSPResponses), len(p.CRLs))
		}
	}
	if _, err := ParseLevel("B-LTA"); err == nil {
		t.Error("B-LTA parsed")
	}
}

// TestCosign: a co-signature joins a detached or an attached signature
// and keeps the first; a signature of another document is refused.
// TestSignerRefusesLoginStatements: neither Sign nor Cosign signs a login
// statement, whole or altered, at any level.
func TestSignerRefusesLoginStatements(t *testing.T) {
	f := newFixture(t)
	s := Signer{Chain: []*x509.Certificate{f.signer, f.issuing}, Key: f.signerKey, TSA: f.tsaURL}
	ctx := context.Background()
	for _, doc := range []string{
		"Yagona login statement v2\nI log in with my authentication key to the service named below.",
		"yagona login statement v9\nanything",
		"\uFEFFYagona login statement v2\r\nissuer: https://id.example.uz",
		"yagona-login-v1\norigin: https://id.example.uz",
	} {
		for _, level := range []Level{LevelB, LevelT} {
			if sig, err := s.Sign(ctx, []byte(doc), false, level); !errors.Is(err, ErrLoginStatement) || sig != nil {
				t.Errorf("Sign %q at %s: %v", doc, level, err)
			}
		}
		prev, err := cms.Sign([]byte(doc), f.signer, nil, f.signerKey, true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Cosign(ctx, []byte(doc), prev, LevelB); !errors.Is(err, ErrLoginStatement) {
			t.Errorf("Cosign %q: %v", doc, err)
		}
	}
}

func TestCosign(t *testing.T) {
	f := newFixture(t)
	s := Signer{Chain: []*x509.Certificate{f.signer, f.issuing}, Key: f.signerKey, TSA: f.tsaURL}
	ctx := context.Background()
	doc := []byte("qaror matni")
	for _, detached := range []bool{true, false} {
		prev, err := s.Sign(ctx, doc, detached, LevelB)
		if err != nil {
			t.Fatal(err)
		}
		both, err := s.Cosign(ctx, doc, prev, LevelT)
		if err != nil {
			t.Fatalf("detached=%v: %v", detached, err)
		}
		content := doc
		if !detached {
			content = nil
		}
		p, err := cms.Verify(both, content)
		if err != nil || len(p.Signers) != 2 || len(p.Signers[1].Timestamps) != 1 {
			t.Fatalf("detached=%v: %v, %d signers", detached, err, len(p.Signers))
		}
		if _, err := s.Cosign(ctx, []byte("boshqa matn"), prev, LevelB); !errors.Is(err, ErrNotSignatureOf) {
			t.Errorf("detached=%v: another document: %v", detached, err)
		}
	}
	prev, _ := s.Sign(ctx, doc, true, LevelB)
	if _, err := s.Cosign(ctx, doc, prev, LevelLT); err == nil {
		t.Error("a B-LT co-signature was made")
	}
}

package validation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/internal/load"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

type testCA struct {
	root, issuing *x509.Certificate
	key           crypto.Signer
}

var serial struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(100 + serial.n)
}

func mk(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func newCA(t testing.TB, name string) *testCA {
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " Root"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	root := mk(t, rt, rt, &rk.PublicKey, rk)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	it := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " Issuing"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: now.Add(5 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	return &testCA{root: root, issuing: mk(t, it, root, &ik.PublicKey, rk), key: ik}
}

type holder struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (ca *testCA) person(t testing.TB, pinfl string, key crypto.Signer, from, to time.Time) holder {
	if key == nil {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), NotBefore: from, NotAfter: to,
		Subject:  pkix.Name{CommonName: "Person " + pinfl, SerialNumber: "PNOUZ-" + pinfl},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	return holder{cert: mk(t, tmpl, ca.issuing, key.Public(), ca.key), key: key}
}

func (ca *testCA) tsa(t testing.TB) holder {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "TSA"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	return holder{cert: mk(t, tmpl, ca.issuing, &k.PublicKey, ca.key), key: k}
}

type statuses struct {
	mu   sync.Mutex
	m    map[string]trust.Status
	down bool
}

func (s *statuses) Status(_ context.Context, c, _ *x509.Certificate) (trust.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return trust.Status{}, errors.New("responder unreachable")
	}
	if st, ok := s.m[c.SerialNumber.Text(16)]; ok {
		return st, nil
	}
	return trust.Status{State: trust.Good, Source: "test"}, nil
}

// newValidator trusts ca, with status from src, under the default policy.
func newValidator(t testing.TB, ca *testCA, src trust.StatusSource) *Validator {
	t.Helper()
	v, err := trust.NewVerifier(trust.Anchor{Name: "yagona", Root: ca.root, Intermediates: []*x509.Certificate{ca.issuing}, Status: src})
	if err != nil {
		t.Fatal(err)
	}
	return &Validator{Trust: v, Policy: policy(t)}
}

func policy(t testing.TB) *Policy {
	b, err := configs.Files.ReadFile("validation-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func needOpenSSL(t testing.TB) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func opensslSign(t *testing.T, dir string, signers []holder, issuing *x509.Certificate, detached bool, doc []byte) []byte {
	t.Helper()
	_ = os.WriteFile(filepath.Join(dir, "doc.bin"), doc, 0o600)
	writePEM(t, filepath.Join(dir, "issuing.pem"), "CERTIFICATE", issuing.Raw)
	args := []string{"cms", "-sign", "-cades", "-binary", "-in", "doc.bin", "-outform", "DER", "-out", "sig.der", "-certfile", "issuing.pem"}
	if !detached {
		args = append(args, "-nodetach")
	}
	for i, h := range signers {
		cp, kp := filepath.Join(dir, "s"+string(rune('0'+i))+".pem"), filepath.Join(dir, "k"+string(rune('0'+i))+".pem")
		writePEM(t, cp, "CERTIFICATE", h.cert.Raw)
		k, _ := x509.MarshalPKCS8PrivateKey(h.key)
		writePEM(t, kp, "PRIVATE KEY", k)
		args = append(args, "-signer", cp, "-inkey", kp)
	}
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	der, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
	return der
}

func TestOpenSSLSignaturesPass(t *testing.T) {
	needOpenSSL(t)
	ca := newCA(t, "Yagona")
	v := newValidator(t, ca, &statuses{})
	now := time.Now()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecdsaP := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	rsaP := ca.person(t, "31204900012346", rk, now.Add(-time.Hour), now.Add(time.Hour))
	doc := []byte("Qaror: 2026-yil 23-noyabr\n")
	for _, tc := range []struct {
		name     string
		signers  []holder
		detached bool
	}{
		{"ecdsa attached", []holder{ecdsaP}, false},
		{"ecdsa detached", []holder{ecdsaP}, true},
		{"rsa attached", []holder{rsaP}, false},
		{"rsa detached", []holder{rsaP}, true},
		{"two signers detached", []holder{ecdsaP, rsaP}, true},
		{"two signers attached", []holder{rsaP, ecdsaP}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := opensslSign(t, t.TempDir(), tc.signers, ca.issuing, tc.detached, doc)
			in := Input{Signature: sig}
			if tc.detached {
				in.Document = doc
			}
			rep := v.Validate(context.Background(), in)
			if rep.Indication != TotalPassed || len(rep.Signers) != len(tc.signers) {
				b, _ := json.MarshalIndent(rep, "", " ")
				t.Fatalf("report: %s", b)
			}
			if rep.Signers[0].Signer.PINFL == "" || rep.Signers[0].ClaimedSigningTime == nil || rep.Signers[0].ProofOfExistence != "validation-time" {
				t.Fatalf("signer: %+v", rep.Signers[0])
			}
			if tc.detached {
				changed := append([]byte{}, doc...)
				changed[0] ^= 1
				rep := v.Validate(context.Background(), Input{Signature: sig, Document: changed})
				if rep.Indication != TotalFailed || rep.SubIndication != HashFailure {
					t.Fatalf("tampered document: %s %s", rep.Indication, rep.SubIndication)
				}
			}
		})
	}
}

func TestIndications(t *testing.T) {
	needOpenSSL(t)
	ca := newCA(t, "Yagona")
	foreign := newCA(t, "Foreign")
	st := &statuses{m: map[string]trust.Status{}}
	v := newValidator(t, ca, st)
	now := time.Now()
	doc := []byte("document")
	good := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	revoked := ca.person(t, "31204900012347", nil, now.Add(-time.Hour), now.Add(time.Hour))
	st.m[revoked.cert.SerialNumber.Text(16)] = trust.Status{State: trust.Revoked, Time: now.Add(-time.Minute), Source: "test"}
	stranger := foreign.person(t, "31204900012348", nil, now.Add(-time.Hour), now.Add(time.Hour))

	check := func(name string, rep *Report, ind, sub string) {
		t.Helper()
		if rep.Indication != ind || rep.SubIndication != sub {
			b, _ := json.MarshalIndent(rep, "", " ")
			t.Errorf("%s: %s/%s, want %s/%s\n%s", name, rep.Indication, rep.SubIndication, ind, sub, b)
		}
	}
	dir := t.TempDir()
	check("foreign CA", v.Validate(context.Background(), Input{Signature: opensslSign(t, dir, []holder{stranger}, foreign.issuing, true, doc), Document: doc}),
		Indeterminate, NoCertificateChainFound)
	revSig := opensslSign(t, dir, []holder{revoked}, ca.issuing, true, doc)
	check("revoked, no time-stamp", v.Validate(context.Background(), Input{Signature: revSig, Document: doc}), Indeterminate, RevokedNoPOE)
	check("garbage", v.Validate(context.Background(), Input{Signature: []byte("nope")}), TotalFailed, FormatFailure)
	check("signature over other bytes", v.Validate(context.Background(), Input{Signature: revSig, Document: []byte("other")}), TotalFailed, HashFailure)
	st.down = true
	check("status unavailable", v.Validate(context.Background(), Input{Signature: opensslSign(t, dir, []holder{good}, ca.issuing, true, doc), Document: doc}),
		Indeterminate, TryLater)
	st.down = false

	// Without -cades there is no signing-certificate-v2.
	_ = os.WriteFile(filepath.Join(dir, "doc.bin"), doc, 0o600)
	cmd := exec.Command("openssl", "cms", "-sign", "-binary", "-in", "doc.bin", "-signer", "s0.pem", "-inkey", "k0.pem", "-outform", "DER", "-out", "plain.der")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	plain, _ := os.ReadFile(filepath.Join(dir, "plain.der"))
	check("not CAdES", v.Validate(context.Background(), Input{Signature: plain, Document: doc}), TotalFailed, FormatFailure)

	// An expired certificate without proof of existence.
	old := ca.person(t, "31204900012349", nil, now.Add(-48*time.Hour), now.Add(-time.Hour))
	oldSig, err := cms.Sign(doc, old.cert, []*x509.Certificate{ca.issuing}, old.key, true, old.cert.NotAfter.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	check("expired, no POE", v.Validate(context.Background(), Input{Signature: oldSig, Document: doc}), Indeterminate, OutOfBoundsNoPOE)
}

// TestTimestampIsProofOfExistence: with a signature time-stamp from
// before the revocation the signature passes; the claimed signing time
// alone never counts.
func TestTimestampIsProofOfExistence(t *testing.T) {
	ca := newCA(t, "Yagona")
	st := &statuses{m: map[string]trust.Status{}}
	v := newValidator(t, ca, st)
	now := time.Now()
	doc := []byte("document")
	p := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	sig, err := cms.Sign(doc, p.cert, []*x509.Certificate{ca.issuing}, p.key, true, now)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := cms.Parse(sig, doc)
	tsa := ca.tsa(t)
	stamp := func(at time.Time, over []byte) []byte {
		sum := sha256.Sum256(over)
		ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Time: at, Policy: asn1.ObjectIdentifier{2, 999, 1},
			AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(tsa.cert, tsa.key, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Status asn1.RawValue
			Token  asn1.RawValue
		}
		if _, err := asn1.Unmarshal(resp, &r); err != nil {
			t.Fatal(err)
		}
		return r.Token.FullBytes
	}
	stamped, err := cms.AddTimestamp(sig, 0, stamp(now.Add(-10*time.Minute), parsed.Signers[0].Signature))
	if err != nil {
		t.Fatal(err)
	}
	st.m[p.cert.SerialNumber.Text(16)] = trust.Status{State: trust.Revoked, Time: now.Add(-5 * time.Minute), Source: "test"}
	rep := v.Validate(context.Background(), Input{Signature: stamped, Document: doc})
	if rep.Indication != TotalPassed || rep.Signers[0].ProofOfExistence != "signature-timestamp" {
		b, _ := json.MarshalIndent(rep, "", " ")
		t.Fatalf("revoked after a time-stamped signing: %s", b)
	}
	// The same signature time-stamped after the revocation: no proof.
	late, _ := cms.AddTimestamp(sig, 0, stamp(now.Add(-time.Minute), parsed.Signers[0].Signature))
	if rep := v.Validate(context.Background(), Input{Signature: late, Document: doc}); rep.SubIndication != RevokedNoPOE {
		t.Fatalf("late time-stamp: %s/%s", rep.Indication, rep.SubIndication)
	}
	// A time-stamp over another signature proves nothing.
	wrong, _ := cms.AddTimestamp(sig, 0, stamp(now.Add(-10*time.Minute), []byte("other")))
	rep = v.Validate(context.Background(), Input{Signature: wrong, Document: doc})
	if rep.SubIndication != RevokedNoPOE || rep.Signers[0].Timestamp == nil || rep.Signers[0].Timestamp.Valid {
		t.Fatalf("foreign time-stamp: %+v", rep.Signers[0].Timestamp)
	}
	// A TSA whose certificate was revoked before the stamp proves nothing.
	st.m[tsa.cert.SerialNumber.Text(16)] = trust.Status{State: trust.Revoked, Time: now.Add(-time.Hour), Source: "test"}
	if rep := v.Validate(context.Background(), Input{Signature: stamped, Document: doc}); rep.SubIndication != RevokedNoPOE {
		t.Fatalf("revoked TSA: %s/%s", rep.Indication, rep.SubIndication)
	}
	delete(st.m, tsa.cert.SerialNumber.Text(16))
	// Adding the time-stamp left the signature itself intact.
	if _, err := cms.Verify(stamped, doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mustJSON(t, rep)), `"constraint": "signature_timestamp"`) {
		t.Fatal("report lacks the time-stamp check")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPolicyParsing(t *testing.T) {
	for _, bad := range []string{"name: x\nconstraints: {format: MAYBE}", "constraints: {}", "name: x\nunknown: 1", "name: x\nconstraints: {nope: FAIL}", "name: x\nconstraints: {format: FAIL}"} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzValidate: no input makes validation panic, and the report always
// has an indication.
func FuzzValidate(f *testing.F) {
	ca := newCA(f, "Yagona")
	v := newValidator(f, ca, &statuses{})
	now := time.Now()
	p := ca.person(f, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	sig, _ := cms.Sign([]byte("doc"), p.cert, []*x509.Certificate{ca.issuing}, p.key, false, now)
	f.Add(sig)
	f.Add([]byte{0x30, 0x80, 0, 0})
	f.Fuzz(func(t *testing.T, der []byte) {
		for _, doc := range [][]byte{nil, []byte("doc")} {
			rep := v.Validate(context.Background(), Input{Signature: der, Document: doc})
			if rep.Indication == "" || len(rep.Signers) == 0 {
				t.Fatalf("report without indication: %+v", rep)
			}
		}
	})
}

// BenchmarkValidateDetached100KB: full validation of a detached CAdES
// signature (ECDSA P-256) on a 100 KB document, status from a cache-like
// source, one goroutine.
func BenchmarkValidateDetached100KB(b *testing.B) {
	ca := newCA(b, "Yagona")
	v := newValidator(b, ca, &statuses{})
	now := time.Now()
	p := ca.person(b, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	doc := make([]byte, 100<<10)
	_, _ = rand.Read(doc)
	sig, err := cms.Sign(doc, p.cert, []*x509.Certificate{ca.issuing}, p.key, true, now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if rep := v.Validate(context.Background(), Input{Signature: sig, Document: doc}); rep.Indication != TotalPassed {
			b.Fatal(rep.Indication, rep.SubIndication)
		}
	}
	b.StopTimer()
	reportRates(b)
}

// BenchmarkSign100KB: a detached CAdES B-B signature over 100 KB.
func BenchmarkSign100KB(b *testing.B) {
	ca := newCA(b, "Yagona")
	now := time.Now()
	p := ca.person(b, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	doc := make([]byte, 100<<10)
	_, _ = rand.Read(doc)
	b.ResetTimer()
	for range b.N {
		if _, err := cms.Sign(doc, p.cert, []*x509.Certificate{ca.issuing}, p.key, true, now); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRates(b)
}

func reportRates(b *testing.B) {
	perSec := float64(b.N) / b.Elapsed().Seconds()
	sign, verify := load.CryptoRates(200 * time.Millisecond)
	b.ReportMetric(perSec, "ops/s")
	b.ReportMetric(perSec/sign, "x-sign-rate")
	b.ReportMetric(perSec/verify, "x-verify-rate")
}

// FuzzVerifyEndpoint drives the verify endpoint's input handling: any body
// and Content-Type get a 2xx or 4xx, never a 5xx or a panic.
func FuzzVerifyEndpoint(f *testing.F) {
	ca := newCA(f, "Yagona")
	v := newValidator(f, ca, &statuses{})
	h := Handler(v)
	f.Add("application/json", []byte(`{"signature":"MAA="}`))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\nMAA=\r\n--x--\r\n"))
	f.Add("text/plain", []byte("x"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/signatures/verify", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d for %q %q", w.Code, ctype, body)
		}
	})
}

// TestEmbeddedOCSP: with the status source down, a B-LT signature's own
// OCSP response gives the status; without one the answer is TRY_LATER.
func TestEmbeddedOCSP(t *testing.T) {
	ca := newCA(t, "Yagona")
	st := &statuses{down: true}
	v := newValidator(t, ca, st)
	now := time.Now()
	doc := []byte("document")
	p := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	sig, _ := cms.Sign(doc, p.cert, []*x509.Certificate{ca.issuing}, p.key, true, now)
	if rep := v.Validate(context.Background(), Input{Signature: sig, Document: doc}); rep.SubIndication != TryLater {
		t.Fatalf("no embedded status: %s %s", rep.Indication, rep.SubIndication)
	}
	resp, err := ocsp.CreateResponse(ca.issuing, ca.issuing, ocsp.Response{Status: ocsp.Good, SerialNumber: p.cert.SerialNumber,
		ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	lt, err := cms.AddOCSPResponses(sig, resp)
	if err != nil {
		t.Fatal(err)
	}
	rep := v.Validate(context.Background(), Input{Signature: lt, Document: doc})
	if rep.Indication != TotalPassed || rep.Signers[0].Revocation.Source != "embedded-ocsp" {
		t.Fatalf("B-LT: %s", mustJSON(t, rep))
	}
	// A response for another certificate, or forged, does not count.
	other := ca.person(t, "31204900012346", nil, now.Add(-time.Hour), now.Add(time.Hour))
	wrong, _ := ocsp.CreateResponse(ca.issuing, ca.issuing, ocsp.Response{Status: ocsp.Good, SerialNumber: other.cert.SerialNumber,
		ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ca.key)
	lt2, _ := cms.AddOCSPResponses(sig, wrong)
	if rep := v.Validate(context.Background(), Input{Signature: lt2, Document: doc}); rep.SubIndication != TryLater {
		t.Fatalf("another certificate's response counted: %s", rep.SubIndication)
	}
}

// TestDecodeSigKeepsBinaryTail: DER whose last byte looks like whitespace
// is taken as it is (a trimmed signature was refused about once in forty).
func TestDecodeSigKeepsBinaryTail(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x20}
	got, err := decodeSig(der)
	if err != nil || !bytes.Equal(got, der) {
		t.Fatalf("decodeSig = %x, %v", got, err)
	}
	if got, err := decodeSig([]byte("  MAMCASA=\n")); err != nil || !bytes.Equal(got, der) {
		t.Fatalf("base64 with spaces: %x %v", got, err)
	}
}

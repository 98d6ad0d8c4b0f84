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
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the reports made now")

// golden is the fixed world the golden reports are made in. Every test
// runs in a synctest bubble (time.Now starts at 2000-01-01T00:00:00Z and
// stands still) with a seeded global random source, so keys, signatures,
// certificates, signing times and report bytes are the same on every run.
type golden struct {
	t       *testing.T
	t0      time.Time // the signing time: the bubble's clock
	vt      time.Time // the validation time
	serial  int64
	ca      *testCA
	foreign *testCA
	tsa     holder
	st      *goldenStatuses
	v       *Validator
	doc     []byte
}

// goldenStatuses is the anchor's status source: statuses by serial, good
// otherwise, an error when down.
type goldenStatuses struct {
	m    map[string]trust.Status
	down bool
}

func (s *goldenStatuses) Status(_ context.Context, c, _ *x509.Certificate) (trust.Status, error) {
	if s.down {
		return trust.Status{}, errors.New("responder unreachable")
	}
	if st, ok := s.m[c.SerialNumber.Text(16)]; ok {
		return st, nil
	}
	return trust.Status{State: trust.Good, Source: trust.SourceRecords}, nil
}

// The statuses our CA's records give, as the anchor's source reports
// them.
func recordRevoked(at time.Time) trust.Status {
	return trust.Status{State: trust.Revoked, Reason: 1, Time: at, Source: trust.SourceRecords}
}

func recordSuspended(at time.Time) trust.Status {
	return trust.Status{State: trust.Suspended, Reason: trust.ReasonCertificateHold, Time: at, Source: trust.SourceRecords}
}

func recordUnknown() trust.Status {
	return trust.Status{State: trust.Unknown, Source: trust.SourceRecords}
}

func newGolden(t *testing.T) *golden {
	g := &golden{t: t, t0: time.Now().UTC(), doc: []byte("Qaror: 2000-yil 1-yanvar\n")}
	g.vt = g.t0.Add(2 * time.Hour)
	g.ca = g.newCA("Yagona")
	g.foreign = g.newCA("Foreign")
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	g.tsa = g.issue(g.ca, &x509.Certificate{Subject: pkix.Name{CommonName: "TSA"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}, nil)
	g.st = &goldenStatuses{m: map[string]trust.Status{}}
	g.v = newValidator(t, g.ca, g.st)
	return g
}

func (g *golden) nextSerial() *big.Int {
	g.serial++
	return big.NewInt(1000 + g.serial)
}

func (g *golden) newCA(name string) *testCA {
	rk := g.ecKey()
	rt := &x509.Certificate{SerialNumber: g.nextSerial(), Subject: pkix.Name{CommonName: name + " Root"}, NotBefore: g.t0.Add(-365 * 24 * time.Hour),
		NotAfter: g.t0.Add(20 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	root := mk(g.t, rt, rt, &rk.PublicKey, rk)
	ik := g.ecKey()
	it := &x509.Certificate{SerialNumber: g.nextSerial(), Subject: pkix.Name{CommonName: name + " Issuing"}, NotBefore: g.t0.Add(-365 * 24 * time.Hour),
		NotAfter: g.t0.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	return &testCA{root: root, issuing: mk(g.t, it, root, &ik.PublicKey, rk), key: ik}
}

func (g *golden) ecKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		g.t.Fatal(err)
	}
	return k
}

// issue makes a certificate from tmpl under ca, valid from a day before
// t0 for a year unless tmpl says otherwise, for key (a new P-256 key if
// nil).
func (g *golden) issue(ca *testCA, tmpl *x509.Certificate, key crypto.Signer) holder {
	if key == nil {
		key = g.ecKey()
	}
	tmpl.SerialNumber = g.nextSerial()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = g.t0.Add(-24*time.Hour), g.t0.Add(365*24*time.Hour)
	}
	return holder{cert: mk(g.t, tmpl, ca.issuing, key.Public(), ca.key), key: key}
}

// person is a signing certificate of ca for a person.
func (g *golden) person(ca *testCA, pinfl string, mod ...func(*x509.Certificate)) holder {
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Person " + pinfl, SerialNumber: "PNOUZ-" + pinfl, Country: []string{"UZ"}},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	for _, m := range mod {
		m(tmpl)
	}
	return g.issue(ca, tmpl, nil)
}

// sign makes a detached CAdES B-B signature over the document at t0.
func (g *golden) sign(h holder, ca *testCA) []byte {
	sig, err := cms.Sign(g.doc, h.cert, []*x509.Certificate{ca.issuing}, h.key, true, g.t0)
	if err != nil {
		g.t.Fatal(err)
	}
	return sig
}

// stamp adds a signature time-stamp made at `at` by the TSA over the
// signature value of over (the signer's own by default).
func (g *golden) stamp(sig []byte, at time.Time, over []byte) []byte {
	parsed, err := cms.Parse(sig, g.doc)
	if err != nil {
		g.t.Fatal(err)
	}
	if over == nil {
		over = parsed.Signers[0].Signature
	}
	sum := sha256.Sum256(over)
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Time: at, Policy: asn1.ObjectIdentifier{2, 999, 1},
		AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(g.tsa.cert, g.tsa.key, crypto.SHA256)
	if err != nil {
		g.t.Fatal(err)
	}
	var r struct {
		Status asn1.RawValue
		Token  asn1.RawValue
	}
	if _, err := asn1.Unmarshal(resp, &r); err != nil {
		g.t.Fatal(err)
	}
	out, err := cms.AddTimestamp(sig, 0, r.Token.FullBytes)
	if err != nil {
		g.t.Fatal(err)
	}
	return out
}

// signedAs signs the document as a new person whose record says st (good
// when nil), time-stamped at stampAt unless it is zero.
func (g *golden) signedAs(st *trust.Status, stampAt time.Time) Input {
	p := g.person(g.ca, "31204900012345")
	if st != nil {
		g.st.m[p.cert.SerialNumber.Text(16)] = *st
	}
	sig := g.sign(p, g.ca)
	if !stampAt.IsZero() {
		sig = g.stamp(sig, stampAt, nil)
	}
	return Input{Signature: sig, Document: g.doc}
}

func ptr[T any](v T) *T { return &v }

// pkcs7Sign signs the document with the library directly, for signatures
// cms.Sign would not make; attached, unless edit detaches it.
func (g *golden) pkcs7Sign(h holder, cfg pkcs7.SignerInfoConfig, edit func(*pkcs7.SignedData)) []byte {
	sd, err := pkcs7.NewSignedData(g.doc)
	if err != nil {
		g.t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if edit != nil {
		edit(sd)
	}
	if err := sd.AddSigner(h.cert, h.key, cfg); err != nil {
		g.t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		g.t.Fatal(err)
	}
	return der
}

// essFor is a signing-certificate-v2 attribute naming c.
func essFor(c *x509.Certificate) pkcs7.Attribute {
	type essCertIDv2 struct{ CertHash []byte }
	type signingCertificateV2 struct{ Certs []essCertIDv2 }
	h := sha256.Sum256(c.Raw)
	return pkcs7.Attribute{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47},
		Value: signingCertificateV2{Certs: []essCertIDv2{{CertHash: h[:]}}}}
}

// goldenCase is one report: the input and the anchor's statuses.
type goldenCase struct {
	name string
	in   func(g *golden) Input
}

var goldenCases = []goldenCase{
	{"total-passed", func(g *golden) Input { return g.signedAs(nil, time.Time{}) }},
	{"total-passed-timestamp", func(g *golden) Input { return g.signedAs(nil, g.t0.Add(time.Minute)) }},
	{"total-passed-revoked-after-poe", func(g *golden) Input {
		return g.signedAs(ptr(recordRevoked(g.t0.Add(time.Hour))), g.t0.Add(time.Minute))
	}},
	{"total-passed-embedded-ocsp", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		resp, err := ocsp.CreateResponse(g.ca.issuing, g.ca.issuing, ocsp.Response{Status: ocsp.Good, SerialNumber: p.cert.SerialNumber,
			ThisUpdate: g.vt.Add(-time.Minute), NextUpdate: g.vt.Add(time.Hour)}, g.ca.key)
		if err != nil {
			g.t.Fatal(err)
		}
		lt, err := cms.AddOCSPResponses(g.sign(p, g.ca), resp)
		if err != nil {
			g.t.Fatal(err)
		}
		g.st.down = true
		return Input{Signature: lt, Document: g.doc}
	}},
	{"total-passed-digests", func(g *golden) Input {
		sum := sha256.Sum256(g.doc)
		return Input{Signature: g.sign(g.person(g.ca, "31204900012345"), g.ca), Digests: map[crypto.Hash][]byte{crypto.SHA256: sum[:]}}
	}},
	{"total-passed-tsa-revoked-before-stamp", func(g *golden) Input {
		g.st.m[g.tsa.cert.SerialNumber.Text(16)] = recordRevoked(g.t0)
		sig := g.sign(g.person(g.ca, "31204900012345"), g.ca)
		return Input{Signature: g.stamp(sig, g.t0.Add(time.Minute), nil), Document: g.doc}
	}},
	{"total-passed-tsa-suspended-before-stamp", func(g *golden) Input {
		g.st.m[g.tsa.cert.SerialNumber.Text(16)] = recordSuspended(g.t0)
		sig := g.sign(g.person(g.ca, "31204900012345"), g.ca)
		return Input{Signature: g.stamp(sig, g.t0.Add(time.Minute), nil), Document: g.doc}
	}},
	{"total-passed-timestamp-other-signature", func(g *golden) Input {
		sig := g.sign(g.person(g.ca, "31204900012345"), g.ca)
		return Input{Signature: g.stamp(sig, g.t0.Add(time.Minute), []byte("another signature")), Document: g.doc}
	}},
	{"format-failure", func(g *golden) Input {
		return Input{Signature: []byte("not a signature")}
	}},
	{"format-failure-no-signing-certificate-v2", func(g *golden) Input {
		return Input{Signature: g.pkcs7Sign(g.person(g.ca, "31204900012345"), pkcs7.SignerInfoConfig{}, nil)}
	}},
	{"format-failure-content-type", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		sd, err := pkcs7.NewSignedData(g.doc)
		if err != nil {
			g.t.Fatal(err)
		}
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		if err := sd.AddSigner(p.cert, p.key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essFor(p.cert)}}); err != nil {
			g.t.Fatal(err)
		}
		sd.SetContentType(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}) // eContentType TSTInfo, attribute says data
		der, err := sd.Finish()
		if err != nil {
			g.t.Fatal(err)
		}
		return Input{Signature: der}
	}},
	{"format-failure-malformed-signer", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		twice := []pkcs7.Attribute{essFor(p.cert), essFor(p.cert)}
		return Input{Signature: g.pkcs7Sign(p, pkcs7.SignerInfoConfig{ExtraSignedAttributes: twice}, nil)}
	}},
	{"format-failure-login-statement", func(g *golden) Input {
		g.doc = []byte("Yagona login statement v2\nI log in with my authentication key to the service named below. This is not the signature of a document.\n" +
			"issuer: https://id.example.uz\nclient-id: tax\nclient-name: Tax service\norigin: https://id.example.uz\nrequest: r1\n" +
			"nonce: nMT2xaF2Qq3b0iBvKjB3wEkcVtN8PzR1yQ0aM9m1s7E\nissued-at: 1999-12-31T23:59:00Z\nexpires-at: 2000-01-01T00:01:00Z")
		return Input{Signature: g.sign(g.person(g.ca, "31204900012345"), g.ca), Document: g.doc}
	}},
	{"hash-failure", func(g *golden) Input {
		return Input{Signature: g.sign(g.person(g.ca, "31204900012345"), g.ca), Document: []byte("another document")}
	}},
	{"sig-crypto-failure", func(g *golden) Input {
		sig := bytes.Clone(g.sign(g.person(g.ca, "31204900012345"), g.ca))
		sig[len(sig)-1] ^= 1 // the last byte of the signature value
		return Input{Signature: sig, Document: g.doc}
	}},
	{"no-signing-certificate-found", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		return Input{Signature: g.pkcs7Sign(p, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essFor(p.cert)}, SkipCertificates: true}, nil)}
	}},
	{"no-signing-certificate-found-other-certificate", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		other := g.person(g.ca, "31204900012346")
		return Input{Signature: g.pkcs7Sign(p, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essFor(other.cert)}}, nil)}
	}},
	{"no-signing-certificate-found-sha1", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345")
		return Input{Signature: g.pkcs7Sign(p, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{essFor(p.cert)}},
			func(sd *pkcs7.SignedData) { sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA1) })}
	}},
	{"no-certificate-chain-found", func(g *golden) Input {
		return Input{Signature: g.sign(g.person(g.foreign, "31204900012345"), g.foreign), Document: g.doc}
	}},
	{"chain-constraints-failure", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
		return Input{Signature: g.sign(p, g.ca), Document: g.doc}
	}},
	{"crypto-constraints-failure-no-poe", func(g *golden) Input {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			g.t.Fatal(err)
		}
		p := g.issue(g.ca, &x509.Certificate{Subject: pkix.Name{CommonName: "Weak", SerialNumber: "PNOUZ-31204900012345"},
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}, k)
		return Input{Signature: g.sign(p, g.ca), Document: g.doc}
	}},
	{"crypto-constraints-failure-no-poe-digest", func(g *golden) Input {
		sum384 := crypto.SHA384.New()
		sum384.Write(g.doc)
		return Input{Signature: g.sign(g.person(g.ca, "31204900012345"), g.ca), Digests: map[crypto.Hash][]byte{crypto.SHA384: sum384.Sum(nil)}}
	}},
	{"out-of-bounds-no-poe", func(g *golden) Input {
		p := g.person(g.ca, "31204900012345", func(c *x509.Certificate) { c.NotBefore, c.NotAfter = g.t0.Add(-24*time.Hour), g.t0.Add(time.Hour) })
		return Input{Signature: g.sign(p, g.ca), Document: g.doc}
	}},
	{"revoked-no-poe", func(g *golden) Input { return g.signedAs(ptr(recordRevoked(g.t0.Add(time.Hour))), time.Time{}) }},
	{"revoked-no-poe-late-timestamp", func(g *golden) Input {
		return g.signedAs(ptr(recordRevoked(g.t0.Add(time.Minute))), g.t0.Add(time.Hour))
	}},
	{"try-later", func(g *golden) Input {
		g.st.down = true
		return Input{Signature: g.sign(g.person(g.ca, "31204900012345"), g.ca), Document: g.doc}
	}},
	{"try-later-unknown", func(g *golden) Input { return g.signedAs(ptr(recordUnknown()), time.Time{}) }},
	{"suspended-no-poe", func(g *golden) Input { return g.signedAs(ptr(recordSuspended(g.t0.Add(time.Hour))), time.Time{}) }},
	{"suspended-after-poe", func(g *golden) Input {
		return g.signedAs(ptr(recordSuspended(g.t0.Add(time.Hour))), g.t0.Add(time.Minute))
	}},
	{"two-signers-worst-wins", func(g *golden) Input {
		good := g.person(g.ca, "31204900012345")
		revoked := g.person(g.ca, "31204900012346")
		g.st.m[revoked.cert.SerialNumber.Text(16)] = recordRevoked(g.t0.Add(time.Hour))
		both, err := cms.Combine(g.sign(good, g.ca), g.sign(revoked, g.ca))
		if err != nil {
			g.t.Fatal(err)
		}
		return Input{Signature: both, Document: g.doc}
	}},
}

// TestGoldenReports validates one signature per indication and
// sub-indication the validator gives and compares the report with
// testdata/golden/<case>.json byte for byte (go test -update rewrites
// them).
func TestGoldenReports(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cryptotest.SetGlobalRandom(t, 10)
				g := newGolden(t)
				in := tc.in(g)
				in.Time = g.vt
				got, err := json.MarshalIndent(g.v.Validate(context.Background(), in), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, '\n')
				path := filepath.Join("testdata", "golden", tc.name+".json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to write it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("report differs from %s:\n%s", path, got)
				}
			})
		})
	}
}

// TestGoldenCoverage: the golden reports hold every indication and
// sub-indication the validator gives.
func TestGoldenCoverage(t *testing.T) {
	seen := map[string]bool{}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seen[r.Indication+"/"+r.SubIndication] = true
	}
	for _, want := range []string{TotalPassed + "/", TotalFailed + "/" + FormatFailure, TotalFailed + "/" + HashFailure,
		TotalFailed + "/" + SigCryptoFailure, TotalFailed + "/" + ChainConstraintsFailure, Indeterminate + "/" + NoSigningCertificateFound,
		Indeterminate + "/" + NoCertificateChainFound, Indeterminate + "/" + OutOfBoundsNoPOE, Indeterminate + "/" + RevokedNoPOE,
		Indeterminate + "/" + TryLater, Indeterminate + "/" + CryptoConstraintsNoPOE} {
		if !seen[want] {
			t.Errorf("no golden report for %s", want)
		}
	}
}

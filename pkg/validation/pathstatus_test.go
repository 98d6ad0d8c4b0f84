package validation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

// TestWholePathFromSignature: with only the root trusted and no status
// source reachable, a B-LT signature's own data gives the status of the
// signer, of the TSA and of the issuing CA (the root's CRL for its CAs);
// a CA or TSA revoked before the proven time voids what it vouches for.
func TestWholePathFromSignature(t *testing.T) {
	now := time.Now()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "Path Root"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	root := mk(t, rt, rt, &rk.PublicKey, rk)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	it := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "Path Issuing"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		CRLDistributionPoints: []string{"http://pki.example/crl/root.crl"}}
	ca := &testCA{root: root, issuing: mk(t, it, root, &ik.PublicKey, rk), key: ik}
	anchor := trust.Anchor{Name: "root only", Root: root, Status: &statuses{down: true}}
	tv, err := trust.NewVerifier(anchor)
	if err != nil {
		t.Fatal(err)
	}
	v := &Validator{Trust: tv, Policy: policy(t)}
	doc := []byte("document")
	p := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	tsa := ca.tsa(t)
	sig, err := cms.Sign(doc, p.cert, []*x509.Certificate{ca.issuing}, p.key, true, now.Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := cms.Parse(sig, doc)
	sum := sha256.Sum256(parsed.Signers[0].Signature)
	stampAt := now.Add(-10 * time.Minute)
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Time: stampAt, Policy: asn1.ObjectIdentifier{2, 999, 1},
		AddTSACertificate: true, Certificates: []*x509.Certificate{ca.issuing}}
	resp, err := ts.CreateResponseWithOpts(tsa.cert, tsa.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Status, Token asn1.RawValue }
	if _, err := asn1.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	bt, err := cms.AddTimestamp(sig, 0, r.Token.FullBytes)
	if err != nil {
		t.Fatal(err)
	}
	ocspFor := func(c *x509.Certificate, status int) []byte {
		der, err := ocsp.CreateResponse(ca.issuing, ca.issuing, ocsp.Response{Status: status, SerialNumber: c.SerialNumber, ThisUpdate: now,
			NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Hour)}, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	arl := func(revokedAt time.Time) []byte {
		var revoked []x509.RevocationListEntry
		if !revokedAt.IsZero() {
			revoked = []x509.RevocationListEntry{{SerialNumber: ca.issuing.SerialNumber, RevocationTime: revokedAt}}
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour),
			NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: revoked}, root, rk)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	good := [][]byte{ocspFor(p.cert, ocsp.Good), ocspFor(tsa.cert, ocsp.Good)}
	tests := []struct {
		name      string
		responses [][]byte
		crls      [][]byte
		want      string // indication/sub-indication
		caStatus  string // the issuing CA's reported state; "" none
		tsDetail  string // part of the time-stamp's detail when it is not valid
	}{
		{"complete", good, [][]byte{arl(time.Time{})}, TotalPassed + "/", "good", ""},
		{"no data for the CA", good, nil, TotalPassed + "/", "", ""},
		{"CA revoked after the time-stamp", good, [][]byte{arl(now.Add(-5 * time.Minute))}, TotalPassed + "/", "revoked", ""},
		{"CA revoked before the time-stamp", good, [][]byte{arl(now.Add(-20 * time.Minute))}, Indeterminate + "/" + RevokedNoPOE, "revoked",
			"the TSA's CA"},
		{"TSA revoked before the time-stamp", [][]byte{good[0], ocspFor(tsa.cert, ocsp.Revoked)}, nil, "", "", "the TSA's certificate"},
		{"no data at all", nil, nil, Indeterminate + "/" + TryLater, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lt, err := cms.AddRevocationInfo(bt, tc.crls, tc.responses)
			if err != nil {
				t.Fatal(err)
			}
			rep := v.Validate(context.Background(), Input{Signature: lt, Document: doc})
			s := rep.Signers[0]
			if tc.want != "" && rep.Indication+"/"+rep.SubIndication != tc.want {
				t.Fatalf("%s/%s, want %s: %s", rep.Indication, rep.SubIndication, tc.want, mustJSON(t, rep))
			}
			if got := caState(s.CAStatus); got != tc.caStatus {
				t.Errorf("CA status %q, want %q", got, tc.caStatus)
			}
			if tc.tsDetail == "" && (s.Timestamp == nil || !s.Timestamp.Valid) {
				t.Errorf("time-stamp not valid: %+v", s.Timestamp)
			}
			if tc.tsDetail != "" && (s.Timestamp == nil || s.Timestamp.Valid || !strings.Contains(s.Timestamp.Detail, tc.tsDetail)) {
				t.Errorf("time-stamp %+v, want invalid: %s", s.Timestamp, tc.tsDetail)
			}
		})
	}
}

func caState(cs []CAStatus) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].State
}

package cms

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestAddRevocationInfo: CRLs and OCSP responses added to a signature are
// read back in order, the signature still verifies (here and in OpenSSL),
// and the SignedData is version 5 once it carries OCSP responses.
func TestAddRevocationInfo(t *testing.T) {
	p := newPKI(t, ecKey(t, elliptic.P256()))
	doc := []byte("a decision\n")
	sig, err := Sign(doc, p.leaf, nil, p.key, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(),
		NextUpdate: time.Now().Add(time.Hour)}, p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.CreateResponse(p.root, p.root, ocsp.Response{Status: ocsp.Good, SerialNumber: p.leaf.SerialNumber,
		ThisUpdate: time.Now()}, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if same, err := AddRevocationInfo(sig, nil, nil); err != nil || !bytes.Equal(same, sig) {
		t.Fatalf("nothing to add changed the signature: %v", err)
	}
	if _, err := AddRevocationInfo(sig, [][]byte{[]byte("not a CRL")}, nil); err == nil {
		t.Fatal("garbage taken as a CRL")
	}
	withCRL, err := AddRevocationInfo(sig, [][]byte{crl}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, withCRL); v != 1 {
		t.Fatalf("a CRL alone made version %d", v)
	}
	full, err := AddOCSPResponses(withCRL, resp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(full, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.CRLs) != 1 || !bytes.Equal(s.CRLs[0], crl) || len(s.OCSPResponses) != 1 || !bytes.Equal(s.OCSPResponses[0], resp) {
		t.Fatalf("read back %d CRLs, %d OCSP responses", len(s.CRLs), len(s.OCSPResponses))
	}
	if v := version(t, full); v != 5 {
		t.Fatalf("version %d with other revocation information, want 5", v)
	}
	needOpenSSL(t)
	dir := p.files(t)
	_ = os.WriteFile(filepath.Join(dir, "doc.txt"), doc, 0o600)
	_ = os.WriteFile(filepath.Join(dir, "sig.der"), full, 0o600)
	run(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "doc.txt", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null")
}

func version(t *testing.T, der []byte) int {
	t.Helper()
	var ci contentInfo
	var head signedDataHead
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil {
		t.Fatal(err)
	}
	return head.Version
}

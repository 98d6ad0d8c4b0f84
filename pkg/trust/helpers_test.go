package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the time the fixtures are valid around.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var serials atomic.Int64

type pki struct {
	root, inter *x509.Certificate
	rootKey     crypto.Signer
	interKey    crypto.Signer
}

type cert struct {
	c   *x509.Certificate
	key crypto.Signer
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serials.Add(1))
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = t0.Add(-24*time.Hour), t0.Add(365*24*time.Hour)
	}
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

func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

// newPKI makes a root and an intermediate; mod edits the intermediate's
// template.
func newPKI(t testing.TB, name string, mod ...func(*x509.Certificate)) *pki {
	t.Helper()
	p := &pki{rootKey: newKey(t), interKey: newKey(t)}
	rt := caTemplate(name + " Root")
	p.root = create(t, rt, rt, p.rootKey.Public(), p.rootKey)
	it := caTemplate(name + " Issuing")
	for _, m := range mod {
		m(it)
	}
	p.inter = create(t, it, p.root, p.interKey.Public(), p.rootKey)
	return p
}

func (p *pki) anchor(name string) Anchor {
	return Anchor{Name: name, Root: p.root, Intermediates: []*x509.Certificate{p.inter}}
}

// leaf issues an end-entity certificate under issuer (the intermediate
// by default): authentication profile unless mod changes it.
func (p *pki) leaf(t testing.TB, mod ...func(*x509.Certificate)) cert {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Person", SerialNumber: "PNOUZ-31204900012345"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, m := range mod {
		m(tmpl)
	}
	return cert{c: create(t, tmpl, p.inter, k.Public(), p.interKey), key: k}
}

func keyUsage(ku x509.KeyUsage) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.KeyUsage = ku }
}

func extKeyUsage(eku ...x509.ExtKeyUsage) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.ExtKeyUsage = eku }
}

func validity(from, to time.Time) func(*x509.Certificate) {
	return func(c *x509.Certificate) { c.NotBefore, c.NotAfter = from, to }
}

// tsaEKU is a critical extended key usage extension with timeStamping
// alone (RFC 3161 §2.3).
func tsaEKU(c *x509.Certificate) {
	v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: v}}
	c.ExtKeyUsage = nil
}

func mustVerifier(t testing.TB, anchors ...Anchor) *Verifier {
	t.Helper()
	v, err := NewVerifier(anchors...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixedSource answers one status, or an error.
type fixedSource struct {
	st  Status
	err error
}

func (s fixedSource) Status(context.Context, *x509.Certificate, *x509.Certificate) (Status, error) {
	return s.st, s.err
}

var errDown = errors.New("responder unreachable")

func organizationIdentifier(v string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: v}
}

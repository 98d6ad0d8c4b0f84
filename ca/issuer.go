package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Issuer signs certificates and CRLs with one CA key. Nothing is signed
// with the real key that was not first signed with a throwaway key of the
// same type and linted: Prepare lints and returns a Prepared token that
// Issue redeems once (the pattern of Boulder's issuance package).
type Issuer struct {
	Name   string            // short name used in URLs and the store, e.g. "issuing"
	Cert   *x509.Certificate // the CA certificate
	signer crypto.Signer

	lintCert   *x509.Certificate // same subject and key id as Cert, throwaway key
	lintSigner crypto.Signer
	linter     *Linter
	hash       crypto.Hash // digest the CA key signs; 0 for Ed25519
}

// NewIssuer checks that signer holds the key of cert and makes the
// throwaway lint issuer.
func NewIssuer(name string, cert *x509.Certificate, signer crypto.Signer, linter *Linter) (*Issuer, error) {
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("ca: issuer %s: certificate is not a CA certificate", name)
	}
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, fmt.Errorf("ca: issuer %s: key does not match certificate", name)
	}
	lintSigner, err := throwawayLike(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("ca: issuer %s: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		RawSubject:            cert.RawSubject,
		SubjectKeyId:          cert.SubjectKeyId,
		NotBefore:             cert.NotBefore,
		NotAfter:              cert.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, lintSigner.Public(), lintSigner)
	if err != nil {
		return nil, fmt.Errorf("ca: issuer %s: lint issuer: %w", name, err)
	}
	lintCert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: issuer %s: lint issuer: %w", name, err)
	}
	return &Issuer{Name: name, Cert: cert, signer: signer, lintCert: lintCert, lintSigner: lintSigner, linter: linter,
		hash: signatureHash(signer.Public())}, nil
}

// signatureHash is the digest crypto/x509 uses with a CA key of this type:
// SHA-256 for P-256 and RSA, SHA-384 for P-384, none for Ed25519.
func signatureHash(pub crypto.PublicKey) crypto.Hash {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 384:
			return crypto.SHA384
		case 521:
			return crypto.SHA512
		}
		return crypto.SHA256
	case ed25519.PublicKey:
		return 0
	}
	return crypto.SHA256
}

// Prepared is a linted certificate waiting to be signed. It can be issued
// once.
type Prepared struct {
	issuer *Issuer
	tmpl   *x509.Certificate
	tbs    []byte // the linted TBSCertificate, DER
	sigAlg []byte // its signatureAlgorithm, DER
	used   atomic.Bool
}

// Serial is the serial number the certificate will carry.
func (p *Prepared) Serial() *big.Int { return p.tmpl.SerialNumber }

// Prepare signs tmpl for pub with the throwaway key and lints the result.
// A lint finding at error level refuses issuance with a *LintError.
func (i *Issuer) Prepare(tmpl *x509.Certificate, pub crypto.PublicKey) (*Prepared, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.lintCert, pub, i.lintSigner)
	if err != nil {
		return nil, fmt.Errorf("ca: prepare certificate: %w", err)
	}
	if err := i.linter.Certificate(der); err != nil {
		return nil, err
	}
	tbs, sigAlg, err := splitCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: prepare certificate: %w", err)
	}
	return &Prepared{issuer: i, tmpl: tmpl, tbs: tbs, sigAlg: sigAlg}, nil
}

// splitCertificate returns the TBSCertificate and signatureAlgorithm
// elements of a DER certificate.
func splitCertificate(der []byte) (tbs, sigAlg []byte, err error) {
	in := cryptobyte.String(der)
	var cert, t, a cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() ||
		!cert.ReadASN1Element(&t, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&a, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("malformed certificate")
	}
	return t, a, nil
}

var errReused = errors.New("ca: prepared certificate already issued")

// Issue signs exactly the linted TBSCertificate with the CA key (the lint
// issuer has the CA's subject and key identifier and a key of the same
// type, so the TBS is the one the CA would have made), then checks the
// signature against the CA certificate, as crypto/x509 does, so a faulty
// signer never yields a published certificate.
func (i *Issuer) Issue(p *Prepared) (*x509.Certificate, error) {
	if p.issuer != i {
		return nil, errors.New("ca: prepared by another issuer")
	}
	if !p.used.CompareAndSwap(false, true) {
		return nil, errReused
	}
	var opts crypto.SignerOpts = i.hash
	msg := p.tbs
	if i.hash != 0 {
		h := i.hash.New()
		h.Write(p.tbs)
		msg = h.Sum(nil)
	}
	sig, err := i.signer.Sign(rand.Reader, msg, opts)
	if err != nil {
		return nil, fmt.Errorf("ca: sign certificate: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(p.tbs)
		b.AddBytes(p.sigAlg)
		b.AddASN1BitString(sig)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ca: encode certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse signed certificate: %w", err)
	}
	if !bytes.Equal(c.RawTBSCertificate, p.tbs) {
		return nil, errors.New("ca: signed certificate differs from the linted one")
	}
	if err := c.CheckSignatureFrom(i.Cert); err != nil {
		return nil, fmt.Errorf("ca: signature returned by the CA key is invalid: %w", err)
	}
	return c, nil
}

// SignCRL lints and signs a CRL the same way.
func (i *Issuer) SignCRL(tmpl *x509.RevocationList) ([]byte, error) {
	lintDER, err := x509.CreateRevocationList(rand.Reader, tmpl, i.lintCert, i.lintSigner)
	if err != nil {
		return nil, fmt.Errorf("ca: prepare crl: %w", err)
	}
	if err := i.linter.CRL(lintDER); err != nil {
		return nil, err
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, i.Cert, i.signer)
	if err != nil {
		return nil, fmt.Errorf("ca: sign crl: %w", err)
	}
	return der, nil
}

// throwawayLike makes a fresh key of the same type and size as pub.
func throwawayLike(pub crypto.PublicKey) (crypto.Signer, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(k.Curve, rand.Reader)
	case *rsa.PublicKey:
		return rsa.GenerateKey(rand.Reader, k.N.BitLen())
	case ed25519.PublicKey:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("unsupported CA key type %T", pub)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// randomSerial returns a positive 16-octet serial with 126 random bits
// (RFC 5280 §4.1.2.2: at most 20 octets; CA/B Forum: at least 64 bits of
// entropy). The top bit is clear (positive) and the next set (fixed length).
func randomSerial() (*big.Int, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("ca: serial: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // keep the length fixed at 16 octets
	return new(big.Int).SetBytes(b[:]), nil
}

// backdate is how far NotBefore is set before the signing time, so that a
// relying party with a slow clock accepts a fresh certificate.
const backdate = time.Minute

package cms_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/yagona/yagona/pkg/cms"
)

// Sign a document as a detached CAdES signature, verify it, and see a
// changed document refused. Verify checks the cryptography only; the
// certificate's chain and status are pkg/validation's.
func ExampleSign() {
	now := time.Now()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Akmal Official"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageContentCommitment}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)

	doc := []byte("Qaror № 42\n")
	sig, err := cms.Sign(doc, cert, nil, key, true, now)
	if err != nil {
		fmt.Println(err)
		return
	}

	signed, err := cms.Verify(sig, doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := signed.Signers[0]
	fmt.Println("signed by", s.Certificate.Subject.CommonName, "with", s.DigestAlgorithm, "detached:", signed.Detached)

	_, err = cms.Verify(sig, []byte("Qaror № 43\n"))
	fmt.Println("another document:", errors.Is(err, cms.ErrSignature), errors.Is(err, cms.ErrDigest))
	// Output:
	// signed by Akmal Official with SHA-256 detached: true
	// another document: true true
}

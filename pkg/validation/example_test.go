package validation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
	"github.com/yagona/yagona/pkg/validation"
)

// allGood is a status source that knows every certificate as good; Yagona
// reads its own CA's records, or asks OCSP for another authority's.
type allGood struct{}

func (allGood) Status(context.Context, *x509.Certificate, *x509.Certificate) (trust.Status, error) {
	return trust.Status{State: trust.Good, Source: "example"}, nil
}

// Validate a freshly made detached signature under the default policy,
// then the same signature against a changed document.
func ExampleValidator_Validate() {
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Root"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	root, _ := x509.ParseCertificate(der)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Akmal Karimov", SerialNumber: "PNOUZ-41111111111111"},
		KeyUsage: x509.KeyUsageContentCommitment, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, _ = x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, caKey)
	cert, _ := x509.ParseCertificate(der)

	doc := []byte("Qaror № 42\n")
	sig, _ := cms.Sign(doc, cert, nil, key, true, now)

	yaml, _ := configs.Files.ReadFile("validation-policy.yaml")
	policy, err := validation.ParsePolicy(yaml)
	if err != nil {
		fmt.Println(err)
		return
	}
	anchors, err := trust.NewVerifier(trust.Anchor{Name: "example", Root: root, Status: allGood{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := &validation.Validator{Policy: policy, Trust: anchors}

	rep := v.Validate(context.Background(), validation.Input{Signature: sig, Document: doc})
	fmt.Println(rep.Indication, rep.Signers[0].Signer.Name, rep.Signers[0].Signer.PINFL)
	rep = v.Validate(context.Background(), validation.Input{Signature: sig, Document: []byte("Qaror № 43\n")})
	fmt.Println(rep.Indication, rep.SubIndication)
	// Output:
	// TOTAL-PASSED Akmal Karimov 41111111111111
	// TOTAL-FAILED HASH_FAILURE
}

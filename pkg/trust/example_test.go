package trust_test

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

	"github.com/yagona/yagona/pkg/trust"
)

// records is a status source: our CA's records, here one suspension.
type records map[string]trust.Status

func (r records) Status(_ context.Context, cert, _ *x509.Certificate) (trust.Status, error) {
	if st, ok := r[cert.SerialNumber.String()]; ok {
		return st, nil
	}
	return trust.Status{State: trust.Good, Source: trust.SourceRecords}, nil
}

// Example verifies a login certificate against an anchor, asks its status
// and reads what the status means for a login and for a signature.
func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	issue := func(serial int64, tmpl, parent *x509.Certificate, pub any, key *ecdsa.PrivateKey) *x509.Certificate {
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), now.Add(-time.Hour), now.Add(time.Hour)
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
		c, _ := x509.ParseCertificate(der)
		return c
	}
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root := issue(1, ca("Root"), ca("Root"), &rootKey.PublicKey, rootKey)
	issuing := issue(2, ca("Issuing"), root, &issKey.PublicKey, rootKey)
	leaf := issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: "Dilnoza Karimova"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, issuing, &leafKey.PublicKey, issKey)

	suspendedAt := now.Add(-10 * time.Minute)
	v, err := trust.NewVerifier(trust.Anchor{Name: "yagona", Root: root, Intermediates: []*x509.Certificate{issuing},
		Status: records{"3": {State: trust.Suspended, Reason: trust.ReasonCertificateHold, Time: suspendedAt, Source: trust.SourceRecords}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	chain, err := v.Verify(leaf, nil, trust.Login, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("chain of %d to %s\n", len(chain.Certs), chain.Anchor.Name)
	st, _ := chain.Status(context.Background())
	login := trust.RuleFor(trust.UseLogin, st.State)
	fmt.Println("login:", login.Word, login.Decide(st, time.Time{}, false))
	sig := trust.RuleFor(trust.UseSignature, st.State)
	fmt.Println("signature time-stamped before:", sig.Word, sig.Decide(st, suspendedAt.Add(-time.Minute), false))
	fmt.Println("signature with no proof:", sig.Word, sig.Decide(st, time.Time{}, false))
	// Output:
	// chain of 3 to yagona
	// login: suspended refuse
	// signature time-stamped before: suspended pass
	// signature with no proof: suspended try later
}

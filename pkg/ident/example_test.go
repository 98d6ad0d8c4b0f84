package ident_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"

	"github.com/yagona/yagona/pkg/ident"
)

// Read who an official's certificate names: the PINFL from the subject
// serialNumber, the organization's TIN from organizationIdentifier, and
// the position from title (ETSI EN 319 412-1 semantic identifiers).
func ExampleFromCertificate() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{
		CommonName:   "Akmal Karimov",
		SerialNumber: "PNOUZ-41111111111111",
		Organization: []string{"Toshkent shahar hokimligi"},
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: ident.OIDOrganizationIdentifier, Value: "NTRUZ-201234567"},
			{Type: ident.OIDTitle, Value: "Direktor"},
		},
	}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)

	id := ident.FromCertificate(cert)
	fmt.Println(id.CommonName, id.PINFL)
	fmt.Println(id.Organization, id.TIN, id.Title)
	fmt.Println(ident.ValidPINFL("41111111111111"), ident.ValidTIN("20123456"))
	// Output:
	// Akmal Karimov 41111111111111
	// Toshkent shahar hokimligi 201234567 Direktor
	// true false
}

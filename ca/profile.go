package ca

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"
)

// Profile describes one kind of certificate the CA issues (DESIGN.md,
// "Certificate profiles"). Profiles come from configuration.
type Profile struct {
	Name         string
	Policy       asn1.ObjectIdentifier // certificate policy OID, required
	Validity     time.Duration         // NotAfter - NotBefore
	KeyUsage     x509.KeyUsage
	ExtKeyUsage  []x509.ExtKeyUsage
	Organization bool // subject carries the organization (TIN, name); enrollment needs a TIN
	Title        bool // subject carries the holder's title; enrollment needs one
	Renewable    bool // a holder may renew with proof of the current certificate
	Service      bool // names an organization's system: CN is the service name given as Title, the person is only the responsible one on record
	System       bool // issued by the CA to itself (TLS server, OCSP); never enrolled
}

// Validate reports the first problem with p.
func (p Profile) Validate() error {
	switch {
	case p.Name == "":
		return fmt.Errorf("ca: profile without a name")
	case len(p.Policy) < 2:
		return fmt.Errorf("ca: profile %s: policy OID required", p.Name)
	case p.Validity < time.Hour:
		return fmt.Errorf("ca: profile %s: validity must be at least 1h", p.Name)
	case p.KeyUsage == 0:
		return fmt.Errorf("ca: profile %s: key usage required", p.Name)
	case p.Title && !p.Organization:
		return fmt.Errorf("ca: profile %s: a title needs an organization", p.Name)
	case p.Service && !p.Title:
		return fmt.Errorf("ca: profile %s: a service profile needs title (the service name)", p.Name)
	}
	return nil
}

// KeyUsageByName maps configuration names to x509 key usages.
var KeyUsageByName = map[string]x509.KeyUsage{
	"digitalSignature":  x509.KeyUsageDigitalSignature,
	"nonRepudiation":    x509.KeyUsageContentCommitment,
	"contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment":   x509.KeyUsageKeyEncipherment,
	"keyAgreement":      x509.KeyUsageKeyAgreement,
}

// ExtKeyUsageByName maps configuration names to x509 extended key usages.
var ExtKeyUsageByName = map[string]x509.ExtKeyUsage{
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"timeStamping":    x509.ExtKeyUsageTimeStamping,
	"OCSPSigning":     x509.ExtKeyUsageOCSPSigning,
}

// Enrollable reports whether people can enroll under p: it names a person,
// so system certificates (OCSP, TLS server) are not enrollable.
func (p Profile) Enrollable() bool { return !p.System }

// Package ident reads the identity a Yagona certificate states about its
// holder: the ETSI EN 319 412-1 semantic identifiers (PNOUZ-<PINFL> in the
// subject serialNumber, NTRUZ-<TIN> in organizationIdentifier) and the
// name attributes. Both the CA and the identity provider use it; neither
// trusts the result before the certificate's chain has been validated.
package ident

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
)

// Attribute types used in Yagona subjects beyond those pkix.Name names.
var (
	OIDGivenName              = asn1.ObjectIdentifier{2, 5, 4, 42}
	OIDSurname                = asn1.ObjectIdentifier{2, 5, 4, 4}
	OIDTitle                  = asn1.ObjectIdentifier{2, 5, 4, 12}
	OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
)

// Identity is what a certificate says about its holder. Empty fields were
// absent or malformed.
type Identity struct {
	PINFL        string // 14 digits, from serialNumber PNOUZ-<PINFL>
	GivenName    string
	Surname      string
	CommonName   string
	TIN          string // 9 digits, from organizationIdentifier NTRUZ-<TIN>
	Organization string
	Title        string
}

// FromCertificate reads the holder's identity from the subject.
func FromCertificate(c *x509.Certificate) Identity {
	return FromName(c.Subject)
}

// FromName reads an identity from a subject name.
func FromName(n pkix.Name) Identity {
	id := Identity{CommonName: n.CommonName}
	if v, ok := strings.CutPrefix(n.SerialNumber, "PNOUZ-"); ok && digits(v, 14) {
		id.PINFL = v
	}
	if len(n.Organization) > 0 {
		id.Organization = n.Organization[0]
	}
	for _, a := range n.Names {
		s, ok := a.Value.(string)
		if !ok {
			continue
		}
		switch {
		case a.Type.Equal(OIDGivenName):
			id.GivenName = s
		case a.Type.Equal(OIDSurname):
			id.Surname = s
		case a.Type.Equal(OIDTitle):
			id.Title = s
		case a.Type.Equal(OIDOrganizationIdentifier):
			if v, ok := strings.CutPrefix(s, "NTRUZ-"); ok && digits(v, 9) {
				id.TIN = v
			}
		}
	}
	return id
}

// ValidPINFL reports whether s is 14 ASCII digits.
func ValidPINFL(s string) bool { return digits(s, 14) }

// ValidTIN reports whether s is 9 ASCII digits.
func ValidTIN(s string) bool { return digits(s, 9) }

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

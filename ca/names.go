package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yagona/yagona/pkg/store"
)

// Attribute types of ETSI EN 319 412-1 and RFC 5280 subjects.
var (
	oidCountry         = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization    = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgIdentifier   = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidTitle           = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidSurname         = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName       = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSerialNumber    = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidCommonName      = asn1.ObjectIdentifier{2, 5, 4, 3}
	maxNameLen         = 64 // RFC 5280 ub-common-name, ub-organization-name, ub-title
	pinflLen, tinLen   = 14, 9
	pinflPrefix        = "PNOUZ-" // ETSI EN 319 412-1 §5.1.3: national personal number, UZ
	tinPrefix          = "NTRUZ-" // ETSI EN 319 412-1 §5.1.4: national trade register, UZ
	countryCode        = "UZ"
	errCodeInvalidName = "invalid_name"
)

// ValidPINFL reports whether s is a PINFL: exactly 14 ASCII digits.
func ValidPINFL(s string) bool { return allDigits(s, pinflLen) }

// ValidTIN reports whether s is a TIN: exactly 9 ASCII digits.
func ValidTIN(s string) bool { return allDigits(s, tinLen) }

func allDigits(s string, n int) bool {
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

// checkName validates one name component of a subject: valid UTF-8, no
// control or format characters, no leading or trailing space, at most 64
// characters.
func checkName(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalid(errCodeInvalidName, "%s is required", field)
		}
		return nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNameLen || strings.TrimSpace(s) != s {
		return invalid(errCodeInvalidName, "%s must be 1 to %d characters without surrounding spaces", field, maxNameLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return invalid(errCodeInvalidName, "%s contains a control character", field)
		}
	}
	return nil
}

// commonName is how a person is named in CN: "Given Surname".
func commonName(p store.Person) string { return p.GivenName + " " + p.Surname }

// subject builds the DER subject for a person, with the organization and
// title when the profile carries them. Names are UTF8String; country and
// the semantic identifiers are PrintableString (RFC 5280 §4.1.2.4).
func subject(p store.Person, org *store.Organization, title string) ([]byte, error) {
	var rdn pkix.RDNSequence
	add := func(oid asn1.ObjectIdentifier, v any) {
		rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}})
	}
	add(oidCountry, printable(countryCode))
	if org != nil {
		add(oidOrganization, utf8String(org.Name))
		add(oidOrgIdentifier, printable(tinPrefix+org.TIN))
		if title != "" {
			add(oidTitle, utf8String(title))
		}
	}
	add(oidSurname, utf8String(p.Surname))
	add(oidGivenName, utf8String(p.GivenName))
	add(oidSerialNumber, printable(pinflPrefix+p.PINFL))
	add(oidCommonName, utf8String(commonName(p)))
	return asn1.Marshal(rdn)
}

// systemSubject names a CA or system certificate; an empty org leaves
// out the organizationName.
func systemSubject(org, cn string) ([]byte, error) {
	rdn := pkix.RDNSequence{{{Type: oidCountry, Value: printable(countryCode)}}}
	if org != "" {
		rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oidOrganization, Value: utf8String(org)}})
	}
	rdn = append(rdn, pkix.RelativeDistinguishedNameSET{{Type: oidCommonName, Value: utf8String(cn)}})
	return asn1.Marshal(rdn)
}

func utf8String(s string) asn1.RawValue {
	return asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(s)}
}

func printable(s string) asn1.RawValue {
	return asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte(s)}
}

// subjectAttrs extracts the organization identifier and title from a
// certificate subject issued by this CA.
func subjectAttrs(name pkix.Name) (tin, title string) {
	for _, atv := range name.Names {
		v, _ := atv.Value.(string)
		switch {
		case atv.Type.Equal(oidOrgIdentifier):
			tin = strings.TrimPrefix(v, tinPrefix)
		case atv.Type.Equal(oidTitle):
			title = v
		}
	}
	return tin, title
}

// serviceSubject names an organization's system (the service profile).
func serviceSubject(org store.Organization, service string) ([]byte, error) {
	rdn := pkix.RDNSequence{
		{{Type: oidCountry, Value: printable(countryCode)}},
		{{Type: oidOrganization, Value: utf8String(org.Name)}},
		{{Type: oidOrgIdentifier, Value: printable(tinPrefix + org.TIN)}},
		{{Type: oidCommonName, Value: utf8String(service)}},
	}
	return asn1.Marshal(rdn)
}

package ca

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// URLs are where relying parties fetch status and issuer certificates; they
// go into every certificate (RFC 5280 §4.2.2.1 and §4.2.1.13).
type URLs struct {
	OCSP      string // e.g. http://127.0.0.1:8080/ocsp
	CAIssuers string // DER issuing CA certificate, e.g. http://127.0.0.1:8080/pki/issuing.cer
	CRL       string // DER CRL, e.g. http://127.0.0.1:8080/crl/issuing.crl
}

// leafTemplate builds the certificate for pub under profile p, valid from
// now (backdated a little) and never past the issuer's own NotAfter.
func leafTemplate(p Profile, rawSubject []byte, pub crypto.PublicKey, issuer *x509.Certificate, urls URLs, now time.Time) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	policy, err := x509.OIDFromInts(oidInts(p.Policy))
	if err != nil {
		return nil, fmt.Errorf("ca: profile %s policy: %w", p.Name, err)
	}
	notBefore := now.Add(-backdate).Truncate(time.Second)
	notAfter := now.Add(p.Validity).Truncate(time.Second)
	if notAfter.After(issuer.NotAfter) {
		notAfter = issuer.NotAfter
	}
	t := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            rawSubject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              p.KeyUsage,
		ExtKeyUsage:           p.ExtKeyUsage,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		Policies:              []x509.OID{policy},
	}
	withURLs(t, urls)
	return t, nil
}

func oidInts(o asn1.ObjectIdentifier) []uint64 {
	out := make([]uint64, len(o))
	for i, v := range o {
		out[i] = uint64(v)
	}
	return out
}

// subjectKeyID is RFC 5280 §4.2.1.2 method (1): the SHA-1 of the
// subjectPublicKey BIT STRING.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal public key: %w", err)
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("ca: parse public key: %w", err)
	}
	h := sha1.Sum(info.PublicKey.Bytes)
	return h[:], nil
}

// SerialHex formats a serial as the store keys it: lower-case hex.
func SerialHex(s *big.Int) string { return s.Text(16) }

// ParseSerial parses a serial given as hex (as SerialHex prints it, colons
// and an 0x prefix allowed).
func ParseSerial(s string) (*big.Int, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
		case c >= 'A' && c <= 'F':
			clean = append(clean, c+'a'-'A')
		default:
			clean = append(clean, c)
		}
	}
	str := string(clean)
	if len(str) > 2 && str[:2] == "0x" {
		str = str[2:]
	}
	if str == "" || len(str) > 40 {
		return nil, invalid("bad_serial", "serial must be 1 to 40 hex digits")
	}
	n, ok := new(big.Int).SetString(str, 16)
	if !ok || n.Sign() <= 0 {
		return nil, invalid("bad_serial", "serial must be a positive hex number")
	}
	return n, nil
}

func pkixExt(oid asn1.ObjectIdentifier, value []byte) pkix.Extension {
	return pkix.Extension{Id: oid, Value: value}
}

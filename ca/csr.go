package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
)

// MaxCSRSize caps a PEM CSR. The largest acceptable one (RSA-4096 with a
// long subject the CA ignores anyway) is well under it.
const MaxCSRSize = 16 << 10

// ParseCSR decodes exactly one PEM "CERTIFICATE REQUEST" block, parses it,
// checks its self-signature (proof of possession, RFC 2986 §3) and the
// strength of its key. The subject and extensions the CSR asks for are
// ignored: the CA takes them from the registration record and the profile.
func ParseCSR(pemData []byte) (*x509.CertificateRequest, error) {
	if len(pemData) == 0 {
		return nil, invalid("bad_csr", "csr is empty")
	}
	if len(pemData) > MaxCSRSize {
		return nil, invalid("bad_csr", "csr is larger than %d bytes", MaxCSRSize)
	}
	block, rest := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, invalid("bad_csr", "csr must be one PEM block of type CERTIFICATE REQUEST")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, invalid("bad_csr", "csr has data after the PEM block")
	}
	return ParseCSRDER(block.Bytes)
}

// ParseCSRDER is ParseCSR for DER input.
func ParseCSRDER(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, newErr(KindInvalid, "bad_csr", "csr is not a valid PKCS#10 request", err)
	}
	if err := CheckKey(csr.PublicKey); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, newErr(KindInvalid, "bad_signature", "csr signature does not verify (no proof of possession)", err)
	}
	return csr, nil
}

// CheckKey accepts ECDSA P-256 and P-384, RSA 2048 to 4096 bits and Ed25519
// keys, and rejects everything else with code "weak_key" or
// "unsupported_key".
func CheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return invalid("unsupported_key", "ecdsa keys must be on P-256 or P-384")
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return invalid("bad_csr", "ed25519 key has the wrong size")
		}
		return nil
	case *rsa.PublicKey:
		return checkRSA(k)
	default:
		return invalid("unsupported_key", "key type %T is not supported", pub)
	}
}

// smallPrimesProduct is the product of the odd primes below 1000, used to
// reject RSA moduli with a small factor (as Boulder's goodkey does).
var smallPrimesProduct = func() *big.Int {
	p := big.NewInt(1)
	for n := int64(3); n < 1000; n += 2 {
		if big.NewInt(n).ProbablyPrime(1) {
			p.Mul(p, big.NewInt(n))
		}
	}
	return p
}()

func checkRSA(k *rsa.PublicKey) error {
	bits := k.N.BitLen()
	if bits < 2048 {
		return invalid("weak_key", "rsa keys must have at least 2048 bits, this one has %d", bits)
	}
	if bits > 4096 {
		return invalid("unsupported_key", "rsa keys must have at most 4096 bits, this one has %d", bits)
	}
	if k.E < 65537 || k.E%2 == 0 {
		return invalid("weak_key", "rsa public exponent must be odd and at least 65537")
	}
	if k.N.Bit(0) == 0 || new(big.Int).GCD(nil, nil, k.N, smallPrimesProduct).Cmp(big.NewInt(1)) != 0 {
		return invalid("weak_key", "rsa modulus has a small factor")
	}
	return nil
}

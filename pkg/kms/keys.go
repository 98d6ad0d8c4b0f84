package kms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
)

// Algorithm names a key type and size.
type Algorithm string

// The algorithms Yagona generates and accepts.
const (
	ECDSAP256 Algorithm = "ecdsa-p256"
	ECDSAP384 Algorithm = "ecdsa-p384"
	Ed25519   Algorithm = "ed25519"
	RSA2048   Algorithm = "rsa-2048"
	RSA3072   Algorithm = "rsa-3072"
	RSA4096   Algorithm = "rsa-4096"
)

// Algorithms lists every Algorithm, in the order above.
func Algorithms() []Algorithm {
	return []Algorithm{ECDSAP256, ECDSAP384, Ed25519, RSA2048, RSA3072, RSA4096}
}

// GenerateKey returns a new private key of type alg from crypto/rand:
// *ecdsa.PrivateKey, ed25519.PrivateKey or *rsa.PrivateKey.
func GenerateKey(alg Algorithm) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		return nil, fmt.Errorf("kms: unknown key algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: generate %s key: %w", alg, err)
	}
	return key, nil
}

// AlgorithmOf returns the Algorithm of a public key (such as
// signer.Public()). Key types and sizes Yagona does not support yield an
// error wrapping ErrUnsupported.
func AlgorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	alg, err := algorithmOf(pub)
	if err != nil {
		return "", fmt.Errorf("kms: %w", err)
	}
	return alg, nil
}

// algorithmOf is AlgorithmOf with errors lacking the package prefix.
func algorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ECDSAP256, nil
		case elliptic.P384():
			return ECDSAP384, nil
		}
		return "", fmt.Errorf("ECDSA curve %s: %w", k.Curve.Params().Name, ErrUnsupported)
	case ed25519.PublicKey:
		return Ed25519, nil
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048, nil
		case 3072:
			return RSA3072, nil
		case 4096:
			return RSA4096, nil
		}
		return "", fmt.Errorf("RSA key size %d bits: %w", k.N.BitLen(), ErrUnsupported)
	}
	return "", fmt.Errorf("key type %T: %w", pub, ErrUnsupported)
}

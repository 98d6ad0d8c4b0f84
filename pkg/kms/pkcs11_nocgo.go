//go:build !cgo

package kms

import (
	"crypto"
	"fmt"
)

// token is never opened without cgo.
type token struct{ info TokenInfo }

func (*token) close() error { return nil }

func errNoCgo(u PKCS11URI) error {
	return fmt.Errorf("kms: pkcs11 key %s: %w: this binary was built without cgo, which PKCS#11 needs", u.describe(), ErrUnsupported)
}

func openToken(u PKCS11URI, _ []byte) (*token, error) { return nil, errNoCgo(u) }

func loadPKCS11(u PKCS11URI, _ Options) (crypto.Signer, error) { return nil, errNoCgo(u) }

func createPKCS11(u PKCS11URI, _ Algorithm, _ Options) (crypto.Signer, error) {
	return nil, errNoCgo(u)
}

func existsPKCS11(u PKCS11URI, _ Options) (bool, error) { return false, errNoCgo(u) }

//go:build !cgo

package kms

import (
	"errors"
	"strings"
	"testing"
)

func TestPKCS11NeedsCgo(t *testing.T) {
	uri := "pkcs11:token=yagona;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"
	opts := Options{Tokens: &Tokens{}}
	_, errLoad := Load(uri, opts)
	_, errCreate := Create(uri, ECDSAP256, opts)
	_, errExists := Exists(uri, opts)
	for name, err := range map[string]error{"Load": errLoad, "Create": errCreate, "Exists": errExists} {
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "cgo") {
			t.Errorf("%s = %v, want ErrUnsupported naming cgo", name, err)
		}
	}
}

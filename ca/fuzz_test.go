package ca

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseCSR feeds the CSR intake arbitrary input: it must never panic,
// and whatever it accepts must be a self-signed request with an allowed key.
func FuzzParseCSR(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/csr/*.pem")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			if AsError(err).Kind != KindInvalid {
				t.Fatalf("non-input error kind for bad input: %v", err)
			}
			return
		}
		if csr.CheckSignature() != nil || CheckKey(csr.PublicKey) != nil {
			t.Fatal("accepted a CSR that fails its own checks")
		}
	})
}

// FuzzParseEnrollmentCode checks the code parser never panics and that
// what it accepts round-trips.
func FuzzParseEnrollmentCode(f *testing.F) {
	f.Add("K7Q2M9XA3D-4F8GH-2JKMN-P3QRS-T5VWX")
	f.Add("k7q2m9xa3d 4f8gh 2jkmn p3qrs t5vwx")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := parseEnrollmentCode(s)
		if !ok {
			return
		}
		c2, ok := parseEnrollmentCode(c.String())
		if !ok || c2 != c {
			t.Fatalf("round trip %q -> %q", s, c.String())
		}
	})
}

package responder

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ocsp"
)

func seeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/requests/*.der")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseRequest: the parser never panics, and what it accepts has one
// positive serial and issuer hashes of the right length.
func FuzzParseRequest(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseRequest(der)
		if err != nil {
			return
		}
		if r.SerialNumber.Sign() <= 0 || len(r.IssuerKeyHash) != r.HashAlgorithm.Size() || len(r.Nonce) > MaxNonce {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
	})
}

// FuzzRespond: whatever arrives, the answer is a parseable OCSP response.
func FuzzRespond(f *testing.F) {
	seeds(f)
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := fx.r.Respond(context.Background(), der)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ocsp.ParseResponse(resp, fx.issuer); err != nil {
			var re ocsp.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("unparseable answer: %v", err)
			}
		}
	})
}

// TestSeedRequests keeps the seed corpus honest: the OpenSSL-made requests
// in testdata parse.
func TestSeedRequests(t *testing.T) {
	files, _ := filepath.Glob("testdata/requests/openssl-*.der")
	if len(files) == 0 {
		t.Fatal("no seed requests")
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		r, err := ParseRequest(b)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if filepath.Base(p) == "openssl-sha256.der" && r.HashAlgorithm != crypto.SHA256 {
			t.Errorf("%s: hash %v", p, r.HashAlgorithm)
		}
	}
}

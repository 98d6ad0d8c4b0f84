package ca

import (
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// faultySigner signs with the right key but flips a bit of the signature,
// as a failing HSM might.
type faultySigner struct{ crypto.Signer }

func (f faultySigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	sig, err := f.Signer.Sign(r, d, o)
	if err == nil {
		sig[len(sig)-1] ^= 1
	}
	return sig, err
}

func testTemplate(t *testing.T, iss *Issuer, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	tmpl, err := leafTemplate(testProfiles["citizen"], nil, pub, iss.Cert, URLs{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tmpl.RawSubject, _ = systemSubject("Yagona Test", "Leaf")
	return tmpl
}

func TestIssuerRefusals(t *testing.T) {
	f := newFixture(t)
	iss := f.a.Issuer()
	key := newKey(t)

	// A prepared certificate is issued once.
	p, err := iss.Prepare(testTemplate(t, iss, key.Public()), key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(p); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Issue(p); !errors.Is(err, errReused) {
		t.Fatalf("second Issue: %v", err)
	}

	// A signer that returns a bad signature yields no certificate.
	bad := *iss
	bad.signer = faultySigner{iss.signer}
	p, _ = bad.Prepare(testTemplate(t, &bad, key.Public()), key.Public())
	if _, err := bad.Issue(p); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("faulty signer: %v", err)
	}

	// A lint error refuses the certificate before the CA key signs.
	tmpl := testTemplate(t, iss, key.Public())
	tmpl.RawSubject, _ = systemSubject("Yagona Test", strings.Repeat("x", 80)) // CN over 64
	if _, err := iss.Prepare(tmpl, key.Public()); err == nil {
		t.Fatal("an over-long common name passed the lint")
	} else if le := (*LintError)(nil); !errors.As(err, &le) {
		t.Fatalf("want a LintError, got %v", err)
	}

	// Prepared by one issuer, redeemed by another: refused.
	other := *iss
	p, _ = iss.Prepare(testTemplate(t, iss, key.Public()), key.Public())
	if _, err := other.Issue(p); err == nil {
		t.Fatal("another issuer redeemed the token")
	}
}

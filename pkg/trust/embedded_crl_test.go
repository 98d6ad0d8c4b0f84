package trust

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// idp builds an IssuingDistributionPoint naming uri (none if empty) with
// the onlyContainsUserCerts / onlyContainsCACerts flags.
func idp(t *testing.T, uri string, onlyUser, onlyCA bool) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if uri != "" {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
				})
			})
		}
		for i, on := range []bool{onlyUser, onlyCA} {
			if on {
				b.AddASN1(cbasn1.Tag(i+1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddUint8(0xff) })
			}
		}
	})
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: b.BytesOrPanic()}
}

// TestEmbeddedCRL: the root's CRL for its CAs (an ARL) a signature carries
// gives the issuing CA's status, when it is the root's, current at the
// signature time and its scope covers the CA.
func TestEmbeddedCRL(t *testing.T) {
	const arl = "http://pki.example/crl/root.crl"
	p := newPKI(t, "Yagona", func(c *x509.Certificate) { c.CRLDistributionPoints = []string{arl} })
	forger := newPKI(t, "Forger")
	crl := func(by *pki, next time.Time, revoked []x509.RevocationListEntry, ext ...pkix.Extension) []byte {
		t.Helper()
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: t0.Add(-2 * time.Hour),
			NextUpdate: next, RevokedCertificateEntries: revoked, ExtraExtensions: ext}, by.root, by.rootKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	listed := func(reason int) []x509.RevocationListEntry {
		return []x509.RevocationListEntry{{SerialNumber: p.inter.SerialNumber, RevocationTime: t0.Add(-time.Hour), ReasonCode: reason}}
	}
	later := t0.Add(time.Hour)
	delta := pkix.Extension{Id: oidDeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}
	tests := []struct {
		name string
		crls [][]byte
		want State
	}{
		{"not listed", [][]byte{crl(p, later, nil)}, Good},
		{"revoked", [][]byte{crl(p, later, listed(1))}, Revoked},
		{"on hold", [][]byte{crl(p, later, listed(6))}, Suspended},
		{"forged", [][]byte{crl(forger, later, nil)}, Unavailable},
		{"expired before the signature", [][]byte{crl(p, t0.Add(-time.Minute), nil)}, Unavailable},
		{"CA certificates at its point", [][]byte{crl(p, later, listed(1), idp(t, arl, false, true))}, Revoked},
		{"another point", [][]byte{crl(p, later, nil, idp(t, "http://pki.example/crl/other.crl", false, true))}, Unavailable},
		{"user certificates only", [][]byte{crl(p, later, nil, idp(t, arl, true, false))}, Unavailable},
		{"delta", [][]byte{crl(p, later, nil, delta)}, Unavailable},
		{"garbage, then good", [][]byte{[]byte("x"), crl(p, later, nil)}, Good},
		{"none", nil, Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := EmbeddedCRL{CRLs: tc.crls, NotBefore: t0}.Status(context.Background(), p.inter, p.root)
			if st.State != tc.want || (tc.want == Unavailable) != errors.Is(err, ErrNoEmbeddedStatus) {
				t.Fatalf("Status = %+v, %v; want %s", st, err, tc.want)
			}
			if err == nil && st.Source != SourceEmbeddedCRL {
				t.Fatalf("source %q", st.Source)
			}
		})
	}
	// Embedded falls back from OCSP to the CRLs.
	st, err := Embedded{Responses: [][]byte{[]byte("x")}, CRLs: [][]byte{crl(p, later, nil)}, NotBefore: t0}.Status(context.Background(), p.inter, p.root)
	if err != nil || st.State != Good || st.Source != SourceEmbeddedCRL {
		t.Fatalf("Embedded = %+v, %v", st, err)
	}
}

package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func TestEmbeddedOCSP(t *testing.T) {
	p := newPKI(t, "Yagona")
	leaf := p.leaf(t).c
	other := p.leaf(t).c
	forger := newPKI(t, "Forger")
	sign := func(status, reason int, at time.Time, cert *x509.Certificate, by *pki) []byte {
		t.Helper()
		der, err := ocsp.CreateResponse(by.inter, by.inter, ocsp.Response{Status: status, SerialNumber: cert.SerialNumber, ThisUpdate: at,
			NextUpdate: at.Add(time.Hour), RevokedAt: t0.Add(-time.Hour), RevocationReason: reason}, by.interKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	tests := []struct {
		name      string
		responses [][]byte
		want      State
	}{
		{"good", [][]byte{sign(ocsp.Good, 0, t0, leaf, p)}, Good},
		{"revoked", [][]byte{sign(ocsp.Revoked, ocsp.KeyCompromise, t0, leaf, p)}, Revoked},
		{"on hold", [][]byte{sign(ocsp.Revoked, ocsp.CertificateHold, t0, leaf, p)}, Suspended},
		{"unknown is no answer", [][]byte{sign(ocsp.Unknown, 0, t0, leaf, p)}, Unavailable},
		{"another certificate's", [][]byte{sign(ocsp.Good, 0, t0, other, p)}, Unavailable},
		{"forged", [][]byte{sign(ocsp.Good, 0, t0, leaf, forger)}, Unavailable},
		{"older than the signature", [][]byte{sign(ocsp.Good, 0, t0.Add(-time.Hour), leaf, p)}, Unavailable},
		{"garbage, then good", [][]byte{[]byte("x"), sign(ocsp.Good, 0, t0, leaf, p)}, Good},
		{"none", nil, Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := EmbeddedOCSP{Responses: tc.responses, NotBefore: t0}.Status(context.Background(), leaf, p.inter)
			if st.State != tc.want || (tc.want == Unavailable) != errors.Is(err, ErrNoEmbeddedStatus) {
				t.Fatalf("Status = %+v, %v; want %s", st, err, tc.want)
			}
			if err == nil && st.Source != SourceEmbeddedOCSP {
				t.Fatalf("source %q", st.Source)
			}
		})
	}
}

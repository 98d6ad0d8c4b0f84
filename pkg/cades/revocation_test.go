package cades

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

// counting counts the requests it carries.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestAddRevocation: B-LT carries an OCSP response for the signer and for
// the TSA and the root's CRL for the issuing CA (once, though both paths
// pass through it), each usable as the embedded status; a revoked
// certificate anywhere, a signature without a time-stamp or a chain to
// another root is refused, the last before anything is fetched.
func TestAddRevocation(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	ctx := context.Background()
	doc := []byte("qaror matni")
	s := Signer{Chain: []*x509.Certificate{f.signer, f.issuing}, Key: f.signerKey, TSA: f.tsaURL, Roots: []*x509.Certificate{f.root}}
	bt, err := s.Sign(ctx, doc, true, LevelT)
	if err != nil {
		t.Fatal(err)
	}
	bb, _ := s.Sign(ctx, doc, true, LevelB)
	tests := []struct {
		name           string
		sig            []byte
		roots          []*x509.Certificate
		ocspStatus     int
		issuingRevoked bool
		want           error
		fetches        int32
	}{
		{"complete", bt, []*x509.Certificate{f.root}, ocsp.Good, false, nil, 3},
		{"revoked signer and TSA", bt, []*x509.Certificate{f.root}, ocsp.Revoked, false, ErrNotGood, 1},
		{"revoked issuing CA", bt, []*x509.Certificate{f.root}, ocsp.Good, true, ErrNotGood, 2},
		{"no time-stamp", bb, []*x509.Certificate{f.root}, ocsp.Good, false, ErrNoTimestamp, 0},
		{"another root", bt, []*x509.Certificate{other.root}, ocsp.Good, false, trust.ErrNoChain, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.ocspStatus.Store(int32(tc.ocspStatus))
			f.issuingRevoked.Store(tc.issuingRevoked)
			rt := &counting{}
			out, err := Client{HTTP: &http.Client{Transport: rt}}.AddRevocation(ctx, tc.sig, doc, s.Chain, tc.roots)
			if got := rt.n.Load(); got != tc.fetches {
				t.Errorf("%d fetches, want %d", got, tc.fetches)
			}
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := cms.Verify(out, doc)
			if err != nil || len(p.OCSPResponses) != 2 || len(p.CRLs) != 1 {
				t.Fatalf("%v; %d OCSP responses, %d CRLs", err, len(p.OCSPResponses), len(p.CRLs))
			}
			emb := trust.Embedded{Responses: p.OCSPResponses, CRLs: p.CRLs, NotBefore: p.Signers[0].SigningTime}
			for _, c := range [][2]*x509.Certificate{{f.signer, f.issuing}, {f.tsa, f.issuing}, {f.issuing, f.root}} {
				if st, err := emb.Status(ctx, c[0], c[1]); err != nil || st.State != trust.Good {
					t.Errorf("%s: %+v, %v", c[0].Subject.CommonName, st, err)
				}
			}
		})
	}
}

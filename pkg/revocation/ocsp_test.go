package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/trust"
)

// OCSP is a status source for the trust component.
var _ trust.StatusSource = (*OCSP)(nil)

type fixture struct {
	ca, leaf *x509.Certificate
	caKey    crypto.Signer
	hits     atomic.Int64
	answer   func(req *ocsp.Request) []byte
	srv      *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(b)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		_, _ = w.Write(f.answer(req))
	}))
	t.Cleanup(f.srv.Close)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "External CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	f.ca, _ = x509.ParseCertificate(der)
	f.caKey = k
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lt := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Person"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), OCSPServer: []string{f.srv.URL}}
	der, _ = x509.CreateCertificate(rand.Reader, lt, f.ca, &lk.PublicKey, k)
	f.leaf, _ = x509.ParseCertificate(der)
	return f
}

func (f *fixture) respond(status int, signer crypto.Signer, thisUpdate, nextUpdate time.Time) func(*ocsp.Request) []byte {
	return f.respondReason(status, ocsp.KeyCompromise, signer, thisUpdate, nextUpdate)
}

func (f *fixture) respondReason(status, reason int, signer crypto.Signer, thisUpdate, nextUpdate time.Time) func(*ocsp.Request) []byte {
	return func(req *ocsp.Request) []byte {
		b, _ := ocsp.CreateResponse(f.ca, f.ca, ocsp.Response{Status: status, SerialNumber: req.SerialNumber, ThisUpdate: thisUpdate,
			NextUpdate: nextUpdate, RevokedAt: thisUpdate, RevocationReason: reason}, signer)
		return b
	}
}

func TestOCSP(t *testing.T) {
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tests := []struct {
		name    string
		answer  func(f *fixture) func(*ocsp.Request) []byte
		want    trust.State
		wantErr bool
	}{
		{"good", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respond(ocsp.Good, f.caKey, now.Add(-time.Minute), now.Add(time.Hour))
		}, trust.Good, false},
		{"revoked", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respond(ocsp.Revoked, f.caKey, now.Add(-time.Minute), now.Add(time.Hour))
		}, trust.Revoked, false},
		{"on hold", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respondReason(ocsp.Revoked, ocsp.CertificateHold, f.caKey, now.Add(-time.Minute), now.Add(time.Hour))
		}, trust.Suspended, false},
		{"unknown", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respond(ocsp.Unknown, f.caKey, now.Add(-time.Minute), now.Add(time.Hour))
		}, trust.Unknown, false},
		{"signed by another key", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respond(ocsp.Good, other, now.Add(-time.Minute), now.Add(time.Hour))
		}, "", true},
		{"stale", func(f *fixture) func(*ocsp.Request) []byte {
			return f.respond(ocsp.Good, f.caKey, now.Add(-2*time.Hour), now.Add(-time.Hour))
		}, "", true},
		{"garbage", func(f *fixture) func(*ocsp.Request) []byte {
			return func(*ocsp.Request) []byte { return []byte("not ocsp") }
		}, "", true},
		{"oversized", func(f *fixture) func(*ocsp.Request) []byte {
			return func(*ocsp.Request) []byte { return make([]byte, 100<<10) }
		}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.answer = tc.answer(f)
			o := &OCSP{Cache: cache.NewMemory(time.Now)}
			got, err := o.Status(context.Background(), f.leaf, f.ca)
			if tc.wantErr {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("Status = %+v, %v; want ErrUnavailable", got, err)
				}
				return
			}
			if err != nil || got.State != tc.want || got.Source != trust.SourceOCSP {
				t.Fatalf("Status = %+v, %v; want %q", got, err, tc.want)
			}
			if tc.want != trust.Good && tc.want != trust.Unknown && (got.Time.IsZero() || got.Reason == 0) {
				t.Fatalf("Status = %+v: no time or reason", got)
			}
			// The second answer comes from the cache.
			if got2, err := o.Status(context.Background(), f.leaf, f.ca); err != nil || !got2.Time.Equal(got.Time) || got2.State != got.State ||
				got2.Reason != got.Reason || f.hits.Load() != 1 {
				t.Fatalf("second Status = %+v, %v after %d requests", got2, err, f.hits.Load())
			}
		})
	}
}

func TestOCSPUnreachableAndNoURL(t *testing.T) {
	f := newFixture(t)
	f.srv.Close()
	if _, err := (&OCSP{}).Status(context.Background(), f.leaf, f.ca); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable responder: %v", err)
	}
	f.leaf.OCSPServer = []string{"ldap://x", "file:///etc/passwd"}
	if _, err := (&OCSP{}).Status(context.Background(), f.leaf, f.ca); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no usable URL: %v", err)
	}
}

// TestCachedForms: what the cache holds reads back, the form written
// before suspensions had their own state included; blanks are misses.
func TestCachedForms(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, st := range []trust.Status{{State: trust.Good}, {State: trust.Unknown},
		{State: trust.Revoked, Time: at, Reason: 1}, {State: trust.Suspended, Time: at, Reason: trust.ReasonCertificateHold}} {
		st.Source = trust.SourceOCSP
		if got, ok := decodeStatus(encodeStatus(st)); !ok || got != st {
			t.Errorf("%+v read back as %+v", st, got)
		}
	}
	if got, ok := decodeStatus([]byte("revoked " + at.Format(time.RFC3339Nano))); !ok || got.State != trust.Revoked || !got.Time.Equal(at) {
		t.Errorf("older form: %+v", got)
	}
	if _, ok := decodeStatus([]byte(" ")); ok {
		t.Error("a blank value counted")
	}
}

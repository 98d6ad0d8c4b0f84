package server

import (
	"context"
	"crypto"
	"io"
	"log/slog"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/internal/config"
)

// TestSystemCertRenewal: a revoked OCSP signer or TLS certificate is
// replaced while the server runs, and the responder signs with the new one.
func TestSystemCertRenewal(t *testing.T) {
	ctx := context.Background()
	a := newTestServer(t)
	oldOCSP, oldTLS := a.ocspCert.Load(), a.tlsCert.Load().Leaf

	a.refreshSystemCerts(ctx) // nothing to do
	if !a.ocspCert.Load().Equal(oldOCSP) || !a.tlsCert.Load().Leaf.Equal(oldTLS) {
		t.Fatal("healthy certificates were replaced")
	}
	admin := ca.Actor{Admin: true, ID: "admin"}
	for _, c := range []string{ca.SerialHex(oldOCSP.SerialNumber), ca.SerialHex(oldTLS.SerialNumber)} {
		if _, err := a.auth.Revoke(ctx, admin, c, ca.ReasonSuperseded); err != nil {
			t.Fatal(err)
		}
	}
	a.refreshSystemCerts(ctx)
	newOCSP, newTLS := a.ocspCert.Load(), a.tlsCert.Load().Leaf
	if newOCSP.Equal(oldOCSP) || newTLS.Equal(oldTLS) {
		t.Fatal("revoked system certificates were not replaced")
	}
	req, err := ocsp.CreateRequest(oldTLS, a.hier.Issuing, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	der, _ := a.ocsp.Respond(ctx, req)
	resp, err := ocsp.ParseResponse(der, a.hier.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Certificate.Equal(newOCSP) || resp.Status != ocsp.Revoked {
		t.Fatalf("answer signed by %v with status %d", resp.Certificate.SerialNumber, resp.Status)
	}
}

// newTestServer builds a server with the default configuration in a
// temporary data directory, closed when the test ends.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

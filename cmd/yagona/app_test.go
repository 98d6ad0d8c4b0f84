package main

import (
	"context"
	"crypto"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/ca"
)

// TestSystemCertRenewal: a revoked OCSP signer or TLS certificate is
// replaced while the server runs, and the responder signs with the new one.
func TestSystemCertRenewal(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
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

// TestJobLeadership: a lone replica holds every job's lease and says so
// in its metrics.
func TestJobLeadership(t *testing.T) {
	s := startServer(t, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := string(s.fetch(s.http + "/metrics"))
		all := true
		for _, job := range []string{"crl", "log", "decisions", "token-keys"} {
			if !strings.Contains(body, `yagona_job_leader{lease="`+job+`"} 1`) {
				all = false
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not leading every job:\n%s", grepLines(body, "yagona_job_leader"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

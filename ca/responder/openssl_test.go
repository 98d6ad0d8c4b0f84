package responder

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// openssl runs the openssl command in dir and returns its combined output.
func openssl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writePEM(t *testing.T, path string, c *x509.Certificate) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSL uses OpenSSL as an independent client: it builds the request
// (SHA-1 or SHA-256 CertID, with or without its nonce), POSTs it, checks
// the signature, the responder certificate chain and the nonce, and
// prints the status.
func TestOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
	f := newFixture(t)
	srv := newServer(t, f)
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "issuer.pem"), f.issuer)
	names := []string{"leaf.pem", "leaf2.pem", "leaf3.pem"}
	for i, l := range f.leaves {
		writePEM(t, filepath.Join(dir, names[i]), l)
	}
	now := *f.now.Load()
	f.src.set(f.leaves[1].SerialNumber, CertStatus{Status: Revoked, RevokedAt: now.Add(-time.Hour), Reason: ocsp.KeyCompromise})
	f.src.mu.Lock()
	delete(f.src.m, f.leaves[2].SerialNumber.Text(16)) // never issued, as far as the CA knows
	f.src.mu.Unlock()

	check := func(t *testing.T, out, cert, status, reason string) {
		t.Helper()
		if !strings.Contains(out, cert+": "+status+"\n") {
			t.Errorf("want %q in:\n%s", cert+": "+status, out)
		}
		if reason != "" && !strings.Contains(out, "Reason: "+reason) {
			t.Errorf("want reason %s in:\n%s", reason, out)
		}
		if !strings.Contains(out, "Response verify OK") {
			t.Errorf("response not verified:\n%s", out)
		}
		if strings.Contains(out, "WARNING") || strings.Contains(out, "rror") {
			t.Errorf("warnings:\n%s", out)
		}
	}
	for _, tc := range []struct {
		cert, status, reason string
	}{
		{"leaf.pem", "good", ""},
		{"leaf2.pem", "revoked", "keyCompromise"},
		{"leaf3.pem", "unknown", ""},
	} {
		for _, hash := range []string{"sha1", "sha256"} {
			for _, nonce := range []bool{true, false} {
				name := tc.cert + "/" + hash
				args := []string{"ocsp", "-issuer", "issuer.pem"}
				if hash == "sha256" {
					args = append(args, "-sha256") // before -cert, which it applies to
				}
				args = append(args, "-cert", tc.cert, "-url", srv.URL+"/ocsp", "-CAfile", "issuer.pem")
				if nonce {
					name += "/nonce"
				} else {
					args = append(args, "-no_nonce")
				}
				t.Run(name, func(t *testing.T) {
					check(t, openssl(t, dir, args...), tc.cert, tc.status, tc.reason)
				})
			}
		}
	}

	t.Run("hold then release", func(t *testing.T) {
		leaf := f.leaf()
		args := []string{"ocsp", "-issuer", "issuer.pem", "-cert", "leaf.pem", "-url", srv.URL + "/ocsp", "-CAfile", "issuer.pem", "-no_nonce"}
		check(t, openssl(t, dir, args...), "leaf.pem", "good", "") // cached by now
		f.src.set(leaf.SerialNumber, CertStatus{Status: Revoked, RevokedAt: now, Reason: ocsp.CertificateHold})
		if err := f.r.Invalidate(context.Background(), leaf.SerialNumber); err != nil {
			t.Fatal(err)
		}
		check(t, openssl(t, dir, args...), "leaf.pem", "revoked", "certificateHold")
		f.src.set(leaf.SerialNumber, CertStatus{Status: Good})
		if err := f.r.Invalidate(context.Background(), leaf.SerialNumber); err != nil {
			t.Fatal(err)
		}
		check(t, openssl(t, dir, args...), "leaf.pem", "good", "")
	})

	t.Run("GET", func(t *testing.T) {
		for _, hash := range []string{"sha1", "sha256"} {
			req := hash + "-req.der"
			args := []string{"ocsp", "-issuer", "issuer.pem"}
			if hash == "sha256" {
				args = append(args, "-sha256")
			}
			openssl(t, dir, append(args, "-cert", "leaf2.pem", "-reqout", req, "-no_nonce")...)
			der, err := os.ReadFile(filepath.Join(dir, req))
			if err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, newReq(t, "GET", getURL(srv.URL+"/ocsp", der), nil))
			if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
				t.Fatalf("GET: %d %v", resp.StatusCode, resp.Header)
			}
			if err := os.WriteFile(filepath.Join(dir, hash+"-resp.der"), body, 0o600); err != nil {
				t.Fatal(err)
			}
			out := openssl(t, dir, append(args, "-cert", "leaf2.pem", "-respin", hash+"-resp.der", "-CAfile", "issuer.pem", "-no_nonce")...)
			check(t, out, "leaf2.pem", "revoked", "keyCompromise")
			// The same request by POST from OpenSSL's -reqin gets the same
			// (cached) bytes.
			post, body2 := do(t, newReq(t, http.MethodPost, srv.URL+"/ocsp", bytes.NewReader(der)))
			if post.StatusCode != 200 || !bytes.Equal(body, body2) {
				t.Fatal("POST and GET answers differ")
			}
		}
	})
}

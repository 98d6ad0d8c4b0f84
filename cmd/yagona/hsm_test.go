//go:build cgo

package main

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/kms/softhsmtest"
)

// useToken puts every key but the (Ed25519) log key on tk, and new
// token-signing keys too.
func useToken(tk *softhsmtest.Token) func(*Config) {
	return func(c *Config) {
		c.Keys.Root, c.Keys.Issuing = tk.URI("root-ca"), tk.URI("issuing-ca")
		c.Keys.OCSP, c.Keys.TSA, c.Keys.TLS = tk.URI("ocsp"), tk.URI("tsa"), tk.URI("tls")
		c.Keys.Token = tk.BaseURI("") + "&pin-source=file:" + tk.PINFile
	}
}

// TestServeOnToken runs the whole service with its keys on a SoftHSM2
// token: it creates the hierarchy there on the first start, issues a
// certificate, answers OCSP and time-stamps that OpenSSL verifies, signs
// tokens with a key on the token, and is ready (the issuing key signs).
func TestServeOnToken(t *testing.T) {
	needOpenSSL(t)
	tk := softhsmtest.New(t, "yagona")
	s := startServer(t, useToken(tk))

	dir := t.TempDir()
	s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)
	if out := mustOpenSSL(t, dir, "verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "leaf.pem"); !strings.Contains(out, "leaf.pem: OK") {
		t.Fatalf("verify: %s", out)
	}
	if out := s.ocspStatus(dir, true); !strings.Contains(out, "leaf.pem: good") {
		t.Fatalf("want good:\n%s", out)
	}
	timeStampOpenSSL(t, s)
	if body := string(s.fetch(s.http + "/readyz")); !strings.Contains(body, "ready") {
		t.Fatalf("readyz: %s", body)
	}

	// Only the log key is a file; the others are on the token and match
	// the certificates.
	keys, _ := filepath.Glob(filepath.Join(s.data, "keys", "*"))
	if len(keys) != 1 || filepath.Base(keys[0]) != "log.key" {
		t.Fatalf("key files in the data directory: %v", keys)
	}
	ts := &kms.Tokens{}
	defer ts.Close()
	opts := kms.Options{Tokens: ts}
	for obj, cert := range map[string]string{"root-ca": "root.pem", "issuing-ca": "issuing.pem", "ocsp": "ocsp.pem", "tsa": "tsa.pem", "tls": "tls.pem"} {
		key, err := kms.Load(tk.URI(obj), opts)
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		c, err := x509.ParseCertificate(readPEM(t, filepath.Join(s.data, "certs", cert)))
		if err != nil {
			t.Fatal(err)
		}
		if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey) {
			t.Errorf("%s is not certified in %s", obj, cert)
		}
	}

	// The token-signing key published in the JWKS is on the token.
	// (Fetched over HTTPS: the TLS key on the token signs the handshake.)
	resp, err := s.client.Get(s.https + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v %d", err, len(set.Keys))
	}
	for _, k := range set.Keys {
		key, err := kms.Load(tk.URI("oidc-"+k.KeyID), opts)
		if err != nil {
			t.Fatalf("token-signing key %s: %v", k.KeyID, err)
		}
		if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
			t.Errorf("token-signing key %s on the token differs from the JWKS", k.KeyID)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(s.data, "keys", "oidc-*")); len(files) > 0 {
		t.Fatalf("token-signing key files: %v", files)
	}
	if _, err := os.Stat(filepath.Join(s.data, "certs", "issuing.pem")); err != nil {
		t.Fatal(err)
	}
}

//go:build cgo

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/server"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/kms/softhsmtest"
)

// useToken puts every key but the (Ed25519) log key on tk, and new
// token-signing keys too.
func useToken(tk *softhsmtest.Token) func(*config.Config) {
	return func(c *config.Config) {
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

// TestCeremony runs the key ceremony on a SoftHSM2 token: the transcript
// says what was made, OpenSSL agrees, a second run is refused, and serve
// starts on what the ceremony left.
func TestCeremony(t *testing.T) {
	needOpenSSL(t)
	tk := softhsmtest.New(t, "yagona")
	data := t.TempDir()
	dev, _ := configs.Files.ReadFile(configs.Default)
	conf := strings.NewReplacer("root: file:keys/root.key", "root: "+tk.URI("root-ca"),
		"issuing: file:keys/issuing.key", "issuing: "+tk.URI("issuing-ca")).Replace(string(dev))
	confPath := filepath.Join(t.TempDir(), "yagona.yaml")
	write(t, filepath.Dir(confPath), "yagona.yaml", conf)
	run := func(config string) (string, error) {
		var out, errb bytes.Buffer
		cmd := newRootCmd(&out, &errb)
		cmd.SetArgs([]string{"ceremony", "--operator", "Aziz Karimov", "--config", config, "--data", data})
		err := cmd.Execute()
		return out.String(), err
	}

	// File keys are no ceremony's business.
	devPath := filepath.Join(t.TempDir(), "dev.yaml")
	write(t, filepath.Dir(devPath), "dev.yaml", string(dev))
	if _, err := run(devPath); err == nil || !strings.Contains(err.Error(), "PKCS#11") {
		t.Fatalf("ceremony on file keys: %v", err)
	}

	// One key cannot be both.
	samePath := filepath.Join(t.TempDir(), "same.yaml")
	write(t, filepath.Dir(samePath), "same.yaml", strings.Replace(conf, "object=issuing-ca", "object=root-ca", 1))
	if _, err := run(samePath); err == nil || !strings.Contains(err.Error(), "same key") {
		t.Fatalf("ceremony with one key for both: %v", err)
	}

	printed, err := run(confPath)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(data, "ceremony", "transcript-*.txt"))
	if len(files) != 1 {
		t.Fatalf("transcripts: %v", files)
	}
	saved, _ := os.ReadFile(files[0])
	if string(saved) != printed {
		t.Fatalf("the saved transcript differs from the printed one:\n%s\n---\n%s", saved, printed)
	}
	certs := filepath.Join(data, "certs")
	root, _ := x509.ParseCertificate(readPEM(t, filepath.Join(certs, "root.pem")))
	iss, _ := x509.ParseCertificate(readPEM(t, filepath.Join(certs, "issuing.pem")))
	if root == nil || iss == nil {
		t.Fatal("certificates not written")
	}
	ts := &kms.Tokens{}
	defer ts.Close()
	info, err := ts.Info(tk.URI("root-ca"), kms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ru, _ := kms.ParseURI(tk.URI("root-ca"))
	iu, _ := kms.ParseURI(tk.URI("issuing-ca"))
	rootSPKI, issSPKI := sha256.Sum256(root.RawSubjectPublicKeyInfo), sha256.Sum256(iss.RawSubjectPublicKeyInfo)
	host, _ := os.Hostname()
	for _, want := range []string{
		"Operator:     Aziz Karimov", "Host:         " + host, "Time (UTC):   20",
		"Module:         " + tk.Module, "Token label:    yagona", "Token serial:   " + info.Serial,
		"Object label:   root-ca", fmt.Sprintf("Object ID:      %x", ru.PKCS11.KeyID()),
		"Object label:   issuing-ca", fmt.Sprintf("Object ID:      %x", iu.PKCS11.KeyID()),
		"Algorithm:      ecdsa-p384", "Algorithm:      ecdsa-p256",
		"(SubjectPublicKeyInfo): " + colonHex(rootSPKI[:]), "(SubjectPublicKeyInfo): " + colonHex(issSPKI[:]),
		"Subject:        " + root.Subject.String(), "Subject:        " + iss.Subject.String(),
		fmt.Sprintf("Serial:         %x", root.SerialNumber), fmt.Sprintf("Serial:         %x", iss.SerialNumber),
		"Not after:      " + root.NotAfter.UTC().Format(time.RFC3339),
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if info.Serial == "" {
		t.Error("token serial is empty")
	}
	// OpenSSL: the chain verifies, and the fingerprints match.
	mustOpenSSL(t, certs, "verify", "-CAfile", "root.pem", "issuing.pem")
	for _, f := range []string{"root.pem", "issuing.pem"} {
		fp := mustOpenSSL(t, certs, "x509", "-in", f, "-noout", "-fingerprint", "-sha256")
		_, v, _ := strings.Cut(strings.TrimSpace(fp), "=")
		if !strings.Contains(printed, "SHA-256:        "+v) {
			t.Errorf("transcript lacks %s's fingerprint %s", f, v)
		}
	}
	// The hash line covers every line above it; the last line is for
	// the witnesses.
	lines := strings.Split(strings.TrimSuffix(printed, "\n"), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "Witnessed by") {
		t.Errorf("last line: %q", lines[len(lines)-1])
	}
	for i, l := range lines {
		if v, ok := strings.CutPrefix(l, "Transcript SHA-256 (every line above): "); ok {
			sum := sha256.Sum256([]byte(strings.Join(lines[:i], "\n") + "\n"))
			if v != fmt.Sprintf("%x", sum) {
				t.Errorf("transcript hash %s, want %x", v, sum)
			}
		}
	}

	// A second run is refused: first for the certificates, then (with
	// them moved away) for the keys on the token.
	if _, err := run(confPath); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "root.pem") {
		t.Fatalf("second ceremony: %v", err)
	}
	moved := t.TempDir()
	for _, f := range []string{"root.pem", "issuing.pem"} {
		if err := os.Rename(filepath.Join(certs, f), filepath.Join(moved, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := run(confPath); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "exists on the token") {
		t.Fatalf("ceremony over existing keys: %v", err)
	}
	for _, f := range []string{"root.pem", "issuing.pem"} {
		if err := os.Rename(filepath.Join(moved, f), filepath.Join(certs, f)); err != nil {
			t.Fatal(err)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(data, "ceremony", "*")); len(files) != 1 {
		t.Fatalf("refused runs left transcripts: %v", files)
	}

	// serve starts on the ceremony's hierarchy without making another.
	cfg, err := config.Load(confPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = data
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Hierarchy()
	if h.Created || !h.Root.Equal(root) || !h.Issuing.Equal(iss) {
		t.Fatal("serve did not take the ceremony's hierarchy")
	}
	d := sha256.Sum256([]byte("probe"))
	if _, err := h.IssuingKey.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
}

// colonHex writes b as OpenSSL prints fingerprints: AB:CD:...
func colonHex(b []byte) string {
	return strings.ReplaceAll(fmt.Sprintf("% X", b), " ", ":")
}

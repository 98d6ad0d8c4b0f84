package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestOpenIDClientNode: panva's openid-client (npm) completes the flow
// with private_key_jwt and PAR; then, discovering by RFC 8414 metadata
// (its oauth2 algorithm), a client_credentials grant, introspection and
// revocation with client_secret_post. .ci/run installs it (npm ci) and sets
// YAGONA_TEST_NODE=1, which turns a missing installation into a failure.
func TestOpenIDClientNode(t *testing.T) {
	needOpenSSL(t)
	dir, _ := filepath.Abs(filepath.Join("..", "..", "interop", "openid-client"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		if os.Getenv("YAGONA_TEST_NODE") != "" {
			t.Fatalf("openid-client is not installed in %s (npm ci)", dir)
		}
		t.Skip("openid-client not installed: run npm ci in interop/openid-client")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	s := startServer(t, nil)
	work := t.TempDir()
	s.enrollWithOpenSSL(work, "31204900012345", "citizen", nil)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	write(t, work, "client-key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})))
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "node-k1", Algorithm: "ES256", Use: "sig"}}})
	write(t, work, "jwks.json", string(jwks))
	redirect := "https://node-rp.example/callback"
	s.registerClient("--id", "node-rp", "--name", "Node RP", "--redirect-uri", redirect, "--auth-method", "private_key_jwt",
		"--jwks", filepath.Join(work, "jwks.json"), "--scope", "openid", "--scope", "profile", "--scope", "pinfl")
	svcSecret := s.registerClient("--id", "node-svc", "--name", "Node service", "--grant", "client_credentials", "--scope", "decisions")

	cmd := exec.Command(node, "rp.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ISSUER="+s.https, "CLIENT_ID=node-rp", "KEY_FILE="+filepath.Join(work, "client-key.pem"),
		"KID=node-k1", "REDIRECT_URI="+redirect, "SVC_CLIENT_ID=node-svc", "SVC_SECRET="+svcSecret, "NODE_EXTRA_CA_CERTS="+filepath.Join(s.data, "certs", "root.pem"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	out := bufio.NewScanner(stdout)
	if !out.Scan() {
		_ = cmd.Wait()
		t.Fatalf("openid-client printed no authorization URL: %s", stderr.String())
	}
	authURL := out.Text()
	if u, err := url.Parse(authURL); err != nil || u.Query().Get("request_uri") == "" || u.Query().Get("code_challenge") != "" {
		t.Fatalf("not a PAR authorization URL: %s", authURL)
	}
	callback := s.opensslLogin(s.browser(), work, authURL)
	if _, err := stdin.Write([]byte(callback + "\n")); err != nil {
		t.Fatal(err)
	}
	if !out.Scan() {
		_ = cmd.Wait()
		t.Fatalf("openid-client failed: %s", stderr.String())
	}
	var res struct {
		Sub, PINFL, ACR string
		UserinfoPINFL   string `json:"userinfo_pinfl"`
		Refreshed       bool
		OAuth2Issuer    string `json:"oauth2_issuer"`
		CCScope         string `json:"cc_scope"`
		CCActive        bool   `json:"cc_active"`
		CCRevoked       bool   `json:"cc_revoked"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.Text())
	}
	if res.PINFL != "31204900012345" || res.UserinfoPINFL != res.PINFL || res.ACR != "substantial" || !res.Refreshed || res.Sub == "" {
		t.Fatalf("openid-client result: %+v", res)
	}
	if res.OAuth2Issuer != s.https || res.CCScope != "decisions" || !res.CCActive || !res.CCRevoked {
		t.Fatalf("openid-client oauth2 discovery and client credentials: %+v", res)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v: %s", err, stderr.String())
	}
}

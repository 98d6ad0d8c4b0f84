package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/validation"
)

// browser is an HTTP client with a cookie jar that trusts the server and
// does not follow redirects.
func (s *testServer) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := s.client.Transport.(*http.Transport).Clone()
	return &http.Client{Jar: jar, Transport: tr, Timeout: s.client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// registerClient registers a client with `yagona client add --json` and
// returns its secret.
func (s *testServer) registerClient(args ...string) string {
	s.t.Helper()
	var out struct {
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(append([]string{"client", "add", "--json"}, args...)...)), &out); err != nil {
		s.t.Fatal(err)
	}
	return out.Secret
}

// opensslLogin follows an authorization URL through the certificate login,
// with `openssl cms -sign` making the signature over the challenge, and
// returns the redirect to the client.
func (s *testServer) opensslLogin(br *http.Client, dir, authURL string) string {
	s.t.Helper()
	st, body := s.opensslLoginAttempt(br, dir, authURL)
	var done struct {
		Redirect string `json:"redirect"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &done) != nil {
		s.t.Fatalf("POST /login/certificate: %d %s", st, body)
	}
	return done.Redirect
}

// opensslLoginAttempt follows an authorization URL to the certificate
// login, signs the challenge with `openssl cms -sign` and returns the
// provider's answer.
func (s *testServer) opensslLoginAttempt(br *http.Client, dir, authURL string) (int, []byte) {
	t := s.t
	t.Helper()
	resp, err := br.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?request=") {
		t.Fatalf("authorize: %d %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/login?request=")
	var ch struct {
		ToSign    string `json:"to_sign"`
		ExpiresIn int    `json:"expires_in"`
	}
	s.postJSON(br, "/login/challenge", map[string]string{"request": id}, &ch, http.StatusOK)
	if ch.ExpiresIn <= 0 || ch.ExpiresIn > 120 || !strings.Contains(ch.ToSign, "origin: "+s.https+"\n") {
		t.Fatalf("challenge: %+v", ch)
	}
	write(t, dir, "to_sign.txt", ch.ToSign)
	mustOpenSSL(t, dir, "cms", "-sign", "-binary", "-nodetach", "-in", "to_sign.txt", "-signer", "leaf.pem", "-inkey", "key.pem",
		"-certfile", "issuing.pem", "-outform", "DER", "-out", "sig.der")
	der, err := os.ReadFile(filepath.Join(dir, "sig.der"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"request": id, "signature": base64.StdEncoding.EncodeToString(der)})
	req, _ := http.NewRequest(http.MethodPost, s.https+"/login/certificate", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err = br.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (s *testServer) postJSON(c *http.Client, path string, in, out any, want int) {
	s.t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, s.https+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// TestOIDCGoClient: coreos/go-oidc with x/oauth2 completes code+PKCE,
// verifies the ID token, reads userinfo and refreshes; OpenSSL makes the
// login signature.
func TestOIDCGoClient(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)
	secret := s.registerClient("--id", "gov-service", "--name", "Davlat xizmati", "--redirect-uri", "https://service.example/callback",
		"--scope", "openid", "--scope", "profile", "--scope", "pinfl")
	ctx := oidc.ClientContext(context.Background(), s.client)
	provider, err := oidc.NewProvider(ctx, s.https)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "gov-service", ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: "https://service.example/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "pinfl"}}
	verifier := oauth2.GenerateVerifier()
	nonce := rand.Text()
	authURL := conf.AuthCodeURL("state-42", oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	redirect := s.opensslLogin(s.browser(), dir, authURL)
	ru, _ := url.Parse(redirect)
	if ru.Query().Get("state") != "state-42" || ru.Query().Get("iss") != s.https {
		t.Fatalf("redirect %q lacks state or iss", redirect)
	}
	tok, err := conf.Exchange(ctx, ru.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "gov-service"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		Nonce string `json:"nonce"`
		PINFL string `json:"pinfl"`
		ACR   string `json:"acr"`
		Name  string `json:"name"`
		Birth string `json:"birthdate"`
	}
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	if cl.Nonce != nonce || cl.PINFL != "31204900012345" || cl.ACR != "substantial" || cl.Birth != "1990-04-12" {
		t.Fatalf("ID token claims: %+v", cl)
	}
	ui, err := provider.UserInfo(ctx, conf.TokenSource(ctx, tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != idt.Subject {
		t.Fatalf("userinfo sub %q, ID token sub %q", ui.Subject, idt.Subject)
	}
	// Refresh: a new access token and a rotated refresh token.
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.RefreshToken == "" {
		t.Fatal("refresh did not rotate")
	}
}

// TestOIDCZitadelRP: zitadel/oidc's relying party runs the whole flow as a
// web application (its own PKCE and state cookies), verifies the ID token
// and fetches userinfo, then refreshes.
func TestOIDCZitadelRP(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)
	rpSrv := httptest.NewUnstartedServer(nil)
	callback := "http://" + rpSrv.Listener.Addr().String() + "/callback"
	secret := s.registerClient("--id", "zitadel-rp", "--name", "Zitadel RP", "--redirect-uri", callback,
		"--scope", "openid", "--scope", "profile", "--scope", "pinfl")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cookies := httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())
	relying, err := rp.NewRelyingPartyOIDC(context.Background(), s.https, "zitadel-rp", secret, callback, []string{"openid", "profile", "pinfl"},
		rp.WithPKCE(cookies), rp.WithHTTPClient(s.client), rp.WithCookieHandler(cookies))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		PINFL   string
		Refresh string
		Subject string
	}
	results := make(chan result, 1)
	mux := http.NewServeMux()
	mux.Handle("/login", rp.AuthURLHandler(func() string { return "zstate" }, relying))
	mux.Handle("/callback", rp.CodeExchangeHandler(rp.UserinfoCallback(func(w http.ResponseWriter, r *http.Request,
		tokens *zoidc.Tokens[*zoidc.IDTokenClaims], state string, _ rp.RelyingParty, info *zoidc.UserInfo) {
		pinfl, _ := info.Claims["pinfl"].(string)
		results <- result{PINFL: pinfl, Refresh: tokens.RefreshToken, Subject: tokens.IDTokenClaims.Subject}
		_, _ = w.Write([]byte("ok"))
	}), relying))
	rpSrv.Config.Handler = mux
	rpSrv.Start()
	defer rpSrv.Close()

	br := s.browser()
	resp, err := br.Get(rpSrv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	redirect := s.opensslLogin(br, dir, resp.Header.Get("Location"))
	resp, err = br.Get(redirect)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("zitadel callback: %d %s", resp.StatusCode, body)
	}
	res := <-results
	if res.PINFL != "31204900012345" || res.Subject == "" || res.Refresh == "" {
		t.Fatalf("zitadel result: %+v", res)
	}
	if _, err := rp.RefreshTokens[*zoidc.IDTokenClaims](context.Background(), relying, res.Refresh, "", ""); err != nil {
		t.Fatalf("zitadel refresh: %v", err)
	}
}

// TestOfficerLogsInWithCertificate: an officer logs in with their own
// certificate (`yagona login`) and uses the access token on the CA's
// officer API; the officer scope is released only after `operator grant`.
func TestOfficerLogsInWithCertificate(t *testing.T) {
	s := startServer(t, nil)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	s.mustCLI("ra", "person", "add", "--pinfl", "41234567890123", "--given-name", "Aziz", "--surname", "Officer", "--birth-date", "1980-01-01")
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", "41234567890123")), &enr); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("key", "new", "--out", p("officer.key"))
	s.mustCLI("cert", "enroll", "--code", enr.Code, "--key", p("officer.key"), "--out", p("officer.pem"), "--chain", p("chain.pem"))
	chain, _ := os.ReadFile(p("chain.pem"))
	leaf, _ := os.ReadFile(p("officer.pem"))
	write(t, dir, "officer-chain.pem", string(leaf)+string(chain))

	login := func() string {
		var out struct {
			Scope string `json:"scope"`
		}
		if err := json.Unmarshal([]byte(s.mustCLI("login", "--json", "--cert", p("officer-chain.pem"), "--key", p("officer.key"), "--out", p("token"))), &out); err != nil {
			t.Fatal(err)
		}
		return out.Scope
	}
	addPerson := func(pinfl string) error {
		_, err := s.cli("ra", "person", "add", "--token-file", p("token"), "--pinfl", pinfl, "--given-name", "New", "--surname", "Person", "--birth-date", "2000-02-02")
		return err
	}
	if scope := login(); strings.Contains(scope, "ca:officer") {
		t.Fatalf("the officer scope was released without a grant: %q", scope)
	}
	if err := addPerson("51234567890123"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a token without ca:officer used the officer API: %v", err)
	}
	s.mustCLI("operator", "grant", "--pinfl", "41234567890123", "--role", "officer")
	if scope := login(); !strings.Contains(scope, "ca:officer") {
		t.Fatalf("granted officer did not get ca:officer: %q", scope)
	}
	if err := addPerson("51234567890123"); err != nil {
		t.Fatalf("officer token refused: %v", err)
	}
}

// TestTransparencyLog: issued certificates enter the log; `yagona log
// verify` proves a certificate's inclusion and the consistency of two
// checkpoints offline, and refuses a proof for another certificate; a
// person lists the certificates issued under their PINFL.
func TestTransparencyLog(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, func(c *config.Config) { c.CA.LogInterval = 100 * time.Millisecond })
	d1, d2 := t.TempDir(), t.TempDir()
	serial1 := s.enrollWithOpenSSL(d1, "31204900012345", "citizen", nil)
	work := t.TempDir()
	p := func(n string) string { return filepath.Join(work, n) }
	waitProof := func(serial, out string) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := s.cli("log", "fetch", "--serial", serial, "--out", out); err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no inclusion proof for %s", serial)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	s.mustCLI("log", "fetch", "--what", "key", "--out", p("key.txt"))
	waitProof(serial1, p("b1.json"))
	s.mustCLI("log", "fetch", "--what", "checkpoint", "--out", p("cp1.txt"))
	out := s.mustCLI("log", "verify", "--key-file", p("key.txt"), "--bundle", p("b1.json"), "--cert", filepath.Join(d1, "leaf.pem"))
	if !strings.Contains(out, "OK: certificate "+serial1) {
		t.Fatalf("verify: %s", out)
	}
	serial2 := s.enrollWithOpenSSL(d2, "31204900012346", "citizen", nil)
	waitProof(serial2, p("b2.json"))
	s.mustCLI("log", "fetch", "--what", "checkpoint", "--out", p("cp2.txt"))
	if _, err := s.cli("log", "verify", "--key-file", p("key.txt"), "--bundle", p("b2.json"), "--cert", filepath.Join(d1, "leaf.pem")); err == nil {
		t.Fatal("a proof verified for another certificate")
	}
	var b map[string]any
	raw, _ := os.ReadFile(p("b1.json"))
	_ = json.Unmarshal(raw, &b)
	var cp1, cp2 struct{ Size int64 }
	for name, cp := range map[string]*struct{ Size int64 }{"cp1.txt": &cp1, "cp2.txt": &cp2} {
		b, _ := os.ReadFile(p(name))
		lines := strings.Split(string(b), "\n")
		_, _ = fmt.Sscan(lines[1], &cp.Size)
	}
	if cp2.Size <= cp1.Size {
		t.Fatalf("the tree did not grow: %d, %d", cp1.Size, cp2.Size)
	}
	s.mustCLI("log", "fetch", "--from", fmt.Sprint(cp1.Size), "--to", fmt.Sprint(cp2.Size), "--out", p("cons.json"))
	out = s.mustCLI("log", "verify", "--key-file", p("key.txt"), "--old", p("cp1.txt"), "--new", p("cp2.txt"), "--consistency", p("cons.json"))
	if !strings.Contains(out, "is a prefix") {
		t.Fatalf("consistency: %s", out)
	}
	// A tampered leaf fails.
	b["leaf"] = base64.StdEncoding.EncodeToString([]byte("certificate\nforged"))
	forged, _ := json.Marshal(b)
	write(t, work, "forged.json", string(forged))
	if _, err := s.cli("log", "verify", "--key-file", p("key.txt"), "--bundle", p("forged.json")); err == nil {
		t.Fatal("a forged leaf verified")
	}

	// The person lists the certificates issued under their PINFL.
	secret := s.registerClient("--id", "my-certs", "--name", "My certificates", "--redirect-uri", "https://mine.example/cb",
		"--scope", "openid", "--scope", "pinfl")
	ctx := oidc.ClientContext(context.Background(), s.client)
	provider, err := oidc.NewProvider(ctx, s.https)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "my-certs", ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: "https://mine.example/cb",
		Scopes: []string{"openid", "pinfl"}}
	verifier := oauth2.GenerateVerifier()
	redirect := s.opensslLogin(s.browser(), d1, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	ru, _ := url.Parse(redirect)
	tok, err := conf.Exchange(ctx, ru.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var mine struct {
		PINFL   string `json:"pinfl"`
		Entries []struct {
			Ref string `json:"ref"`
		} `json:"entries"`
	}
	if st := s.api("GET", "/api/v1/log/mine", tok.AccessToken, nil, &mine); st != 200 || mine.PINFL != "31204900012345" ||
		len(mine.Entries) != 1 || mine.Entries[0].Ref != serial1 {
		t.Fatalf("my log entries: %d %+v", st, mine)
	}
	if st := s.api("GET", "/api/v1/log/mine", "", nil, nil); st != 401 {
		t.Fatalf("without a token: %d", st)
	}
}

// TestSignAndVerify: a citizen signs with `yagona sign` (CAdES B-T with
// the server's time-stamp), OpenSSL verifies it with -cades, the server
// validates it TOTAL-PASSED, and still does after the certificate is
// revoked (the time-stamp proves the signature existed before); a B-B
// signature of the revoked certificate is REVOKED_NO_POE; an OpenSSL-made
// signature passes; a changed document fails.
func TestSignAndVerify(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	s.mustCLI("ra", "person", "add", "--pinfl", "31204900055555", "--given-name", "Nodira", "--surname", "Signer", "--birth-date", "1985-05-05")
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", "31204900055555")), &enr); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("key", "new", "--out", p("my.key"))
	var issued struct {
		Serial string `json:"serial"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("cert", "enroll", "--json", "--code", enr.Code, "--key", p("my.key"), "--out", p("my.pem"), "--chain", p("chain.pem"))), &issued); err != nil {
		t.Fatal(err)
	}
	leaf, _ := os.ReadFile(p("my.pem"))
	chain, _ := os.ReadFile(p("chain.pem"))
	write(t, dir, "full.pem", string(leaf)+string(chain))
	write(t, dir, "root.pem", s.rootPEM)
	write(t, dir, "decision.txt", "Qaror № 17: yo'l qurilishi tasdiqlansin.\n")
	tsa := s.http + "/pki/tsa"
	s.mustCLI("sign", p("decision.txt"), "--cert", p("full.pem"), "--key", p("my.key"), "--level", "B-T", "--tsa", tsa, "--out", p("bt.p7s"))
	s.mustCLI("sign", p("decision.txt"), "--cert", p("full.pem"), "--key", p("my.key"), "--level", "B-B", "--out", p("bb.p7s"))
	s.mustCLI("sign", p("decision.txt"), "--cert", p("full.pem"), "--key", p("my.key"), "--level", "B-LT", "--tsa", tsa, "--out", p("blt.p7s"))
	// B-LT: OCSP responses for the signer and the TSA (and whatever the
	// issuing CA names); the token carries the TSA's issuing CA.
	if parsed, err := cms.Parse(mustRead(t, p("blt.p7s")), mustRead(t, p("decision.txt"))); err != nil || len(parsed.OCSPResponses) < 2 || len(parsed.Signers[0].Timestamps) != 1 {
		t.Fatalf("B-LT carries no OCSP responses for the signer and the TSA, or no time-stamp: %v", err)
	}
	mustOpenSSL(t, dir, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", "blt.p7s", "-content", "decision.txt",
		"-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null")
	checkPKIjs(t, p("blt.p7s"), p("decision.txt"), p("root.pem"))
	// Offline, with only the root: the B-LT signature carries its status;
	// the B-T one cannot say (TRY_LATER).
	if out, err := s.cli("verify", "--trust", p("root.pem"), p("decision.txt"), p("blt.p7s")); err != nil || !strings.Contains(out, "TOTAL-PASSED") {
		t.Fatalf("offline B-LT: %v %s", err, out)
	}
	if _, err := s.cli("verify", "--trust", p("root.pem"), p("decision.txt"), p("bt.p7s")); err == nil || !strings.Contains(err.Error(), "TRY_LATER") {
		t.Fatalf("offline B-T: %v", err)
	}
	mustOpenSSL(t, dir, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", "bt.p7s", "-content", "decision.txt",
		"-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null")

	verify := func(args ...string) (validation.Report, error) {
		var rep validation.Report
		out, err := s.cli(append([]string{"verify", "--json"}, args...)...)
		_ = json.Unmarshal([]byte(out), &rep)
		return rep, err
	}
	rep, err := verify(p("decision.txt"), p("bt.p7s"))
	if err != nil || rep.Indication != validation.TotalPassed || rep.Signers[0].ProofOfExistence != "signature-timestamp" ||
		rep.Signers[0].Signer.PINFL != "31204900055555" {
		t.Fatalf("B-T: %v %+v", err, rep)
	}
	write(t, dir, "changed.txt", "Qaror № 18: yo'l qurilishi tasdiqlansin.\n")
	if rep, _ := verify(p("changed.txt"), p("bt.p7s")); rep.Indication != validation.TotalFailed || rep.SubIndication != validation.HashFailure {
		t.Fatalf("changed document: %s %s", rep.Indication, rep.SubIndication)
	}
	// Revoked afterwards: the time-stamped signature still stands.
	time.Sleep(1100 * time.Millisecond) // the revocation time is after the time-stamp
	s.mustCLI("cert", "revoke", "--serial", issued.Serial, "--reason", "keyCompromise")
	if rep, err := verify(p("decision.txt"), p("bt.p7s")); err != nil || rep.Indication != validation.TotalPassed {
		t.Fatalf("B-T after revocation: %v %s %s", err, rep.Indication, rep.SubIndication)
	}
	if rep, _ := verify(p("decision.txt"), p("bb.p7s")); rep.Indication != validation.Indeterminate || rep.SubIndication != validation.RevokedNoPOE {
		b, _ := json.MarshalIndent(rep, "", " ")
		t.Fatalf("B-B after revocation: %s", b)
	}
	// A second person co-signs; both signatures validate, and OpenSSL
	// checks both.
	s.mustCLI("ra", "person", "add", "--pinfl", "31204900077777", "--given-name", "Ikkinchi", "--surname", "Signer", "--birth-date", "1990-01-01")
	var enr2 struct {
		Code string `json:"enrollment_code"`
	}
	_ = json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", "31204900077777")), &enr2)
	s.mustCLI("key", "new", "--out", p("two.key"))
	s.mustCLI("cert", "enroll", "--code", enr2.Code, "--key", p("two.key"), "--out", p("two.pem"), "--chain", p("two-chain.pem"))
	two, _ := os.ReadFile(p("two.pem"))
	write(t, dir, "two-full.pem", string(two)+string(chain))
	btSig, _ := os.ReadFile(p("bt.p7s")) // the first signer's B-T signature (their certificate is revoked by now)
	write(t, dir, "co.p7s", string(btSig))
	s.mustCLI("cosign", p("decision.txt"), p("co.p7s"), "--cert", p("two-full.pem"), "--key", p("two.key"), "--tsa", tsa)
	if rep, err := verify(p("decision.txt"), p("co.p7s")); err != nil || len(rep.Signers) != 2 || rep.Indication != validation.TotalPassed {
		t.Fatalf("co-signed: %v %s %d signers", err, rep.Indication, len(rep.Signers))
	}
	mustOpenSSL(t, dir, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", "co.p7s", "-content", "decision.txt",
		"-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null")

	// The /verify page says it in words, in the language asked for.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for field, path := range map[string]string{"signature": p("bt.p7s"), "document": p("decision.txt")} {
		b, _ := os.ReadFile(path)
		fw, _ := mw.CreateFormFile(field, filepath.Base(path))
		_, _ = fw.Write(b)
	}
	_ = mw.Close()
	preq, _ := http.NewRequest("POST", s.https+"/verify?lang=en", &body)
	preq.Header.Set("Content-Type", mw.FormDataContentType())
	presp, err := s.client.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != 200 || !strings.Contains(string(page), "The signature is valid.") || !strings.Contains(string(page), "31204900055555") ||
		!strings.Contains(string(page), "a trusted time-stamp proves this") {
		t.Fatalf("verify page: %d %s", presp.StatusCode, page)
	}
	// OpenSSL signs, the server validates.
	od := t.TempDir()
	s.enrollWithOpenSSL(od, "31204900066666", "citizen", nil)
	write(t, od, "doc.txt", "hujjat\n")
	mustOpenSSL(t, od, "cms", "-sign", "-cades", "-binary", "-nodetach", "-in", "doc.txt", "-signer", "leaf.pem", "-inkey", "key.pem",
		"-certfile", "issuing.pem", "-outform", "DER", "-out", "doc.p7s")
	if rep, err := verify(filepath.Join(od, "doc.p7s")); err != nil || rep.Indication != validation.TotalPassed {
		b, _ := json.MarshalIndent(rep, "", " ")
		t.Fatalf("openssl attached signature: %v %s", err, b)
	}
	// With the server stopped, the B-LT signature still validates with
	// only the root: the signer's and the TSA's statuses come from the
	// signature (the signer was revoked since, after the time-stamp).
	s.stop()
	out, err := s.cli("verify", "--json", "--trust", p("root.pem"), p("decision.txt"), p("blt.p7s"))
	var offline validation.Report
	_ = json.Unmarshal([]byte(out), &offline)
	if err != nil || offline.Indication != validation.TotalPassed || offline.Signers[0].Timestamp == nil || !offline.Signers[0].Timestamp.Valid ||
		offline.Signers[0].Revocation == nil || offline.Signers[0].Revocation.Source != "embedded-ocsp" {
		t.Fatalf("B-LT offline with the server stopped: %v %s", err, out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

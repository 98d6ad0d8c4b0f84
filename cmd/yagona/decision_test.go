package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yagona/yagona/internal/agent"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/kms"
)

// official is a person with an encrypted key, a certificate chain and an
// access token from `yagona login`.
type official struct {
	pinfl, key, chain, token string
}

func (s *testServer) official(dir, pinfl, name string) official {
	t := s.t
	p := func(n string) string { return filepath.Join(dir, pinfl+"-"+n) }
	s.mustCLI("ra", "person", "add", "--pinfl", pinfl, "--given-name", name, "--surname", "Official", "--birth-date", "1975-03-03")
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", pinfl)), &enr); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("key", "new", "--out", p("key"))
	s.mustCLI("cert", "enroll", "--code", enr.Code, "--key", p("key"), "--out", p("leaf.pem"), "--chain", p("chain.pem"))
	leaf, _ := os.ReadFile(p("leaf.pem"))
	chain, _ := os.ReadFile(p("chain.pem"))
	write(t, dir, pinfl+"-full.pem", string(leaf)+string(chain))
	s.mustCLI("login", "--cert", p("full.pem"), "--key", p("key"), "--scope", "openid", "--scope", "pinfl", "--out", p("token"))
	tok, _ := os.ReadFile(p("token"))
	return official{pinfl: pinfl, key: p("key"), chain: p("full.pem"), token: strings.TrimSpace(string(tok))}
}

// agentAnswer is the agent's answer to a document request.
type agentAnswer struct{ Error, Signature string }

// agentSignDocument asks an agent that holds o's key and answers the
// server's pages to sign doc as the portal page would, and returns its
// status and answer.
func (s *testServer) agentSignDocument(o official, doc []byte, attached bool) (int, agentAnswer) {
	t := s.t
	t.Helper()
	keyPEM, _ := os.ReadFile(o.key)
	key, err := kms.DecryptPEM(keyPEM, []byte("a long passphrase for tests"))
	if err != nil {
		t.Fatal(err)
	}
	certs, _ := certfile.Read(o.chain)
	ag, err := agent.New(agent.Config{Identities: []agent.Identity{{Certificate: certs[0], Chain: certs[1:], Key: key}}, Origins: []string{s.https}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ag.Handler())
	defer srv.Close()
	sum := sha256.Sum256(certs[0].Raw)
	body, _ := json.Marshal(map[string]any{"key": hex.EncodeToString(sum[:]), "document": base64.StdEncoding.EncodeToString(doc), "attached": attached})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/sign-document", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.https)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out agentAnswer
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *testServer) bearerJSON(method, path, token string, in, out any) int {
	s.t.Helper()
	return s.api(method, path, token, in, out)
}

// TestDecisionThreeOfficials: a service registers a decision that three
// officials must sign in order; they sign with the CLI, OpenSSL and the
// agent; refusals on the way; the final combined CMS verifies with
// OpenSSL; the webhook is signed; the public page checks a document; the
// decision is in the transparency log.
func TestDecisionThreeOfficials(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, func(c *config.Config) { c.CA.LogInterval = 100 * time.Millisecond })
	dir := t.TempDir()
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	a := s.official(dir, "41111111111111", "Akmal")
	b := s.official(dir, "42222222222222", "Bahrom")
	c := s.official(dir, "43333333333333", "Charos")
	stranger := s.official(dir, "44444444444444", "Stranger")

	hooks := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooks <- r
		bodies <- body
	}))
	defer hook.Close()

	// The service: client credentials with scope decisions.
	svc := s.serviceToken("registry")

	doc := []byte("Qaror № 42: Toshkent shahrida yangi maktab qurilsin.\n")
	write(t, dir, "decision.txt", string(doc))
	var d struct {
		ID            string `json:"id"`
		State         string `json:"state"`
		WebhookSecret string `json:"webhook_secret"`
		PublicURL     string `json:"public_url"`
	}
	in := map[string]any{"title": "Yangi maktab", "document": base64.StdEncoding.EncodeToString(doc), "deadline": time.Now().Add(time.Hour).Format(time.RFC3339),
		"webhook_url": hook.URL, "policy": map[string]any{"order": "sequential", "signers": []map[string]string{{"pinfl": a.pinfl}, {"pinfl": b.pinfl}, {"pinfl": c.pinfl}}}}
	if st := s.api("POST", "/api/v1/decisions", svc.AccessToken, in, &d); st != 201 || d.State != "pending" || d.WebhookSecret == "" {
		t.Fatalf("register: %d %+v", st, d)
	}
	if st := s.api("POST", "/api/v1/decisions", a.token, in, nil); st != 403 {
		t.Fatalf("a person registered a decision: %d", st)
	}
	var awaiting struct {
		Decisions []struct{ ID string } `json:"decisions"`
	}
	s.api("GET", "/api/v1/decisions", a.token, nil, &awaiting)
	if len(awaiting.Decisions) != 1 || awaiting.Decisions[0].ID != d.ID {
		t.Fatalf("awaiting A: %+v", awaiting)
	}
	s.api("GET", "/api/v1/decisions", b.token, nil, &awaiting)
	if len(awaiting.Decisions) != 0 {
		t.Fatalf("B sees it before A signed: %+v", awaiting)
	}

	submit := func(o official, sig []byte) (int, map[string]any) {
		var out map[string]any
		st := s.api("POST", "/api/v1/decisions/"+d.ID+"/signatures", o.token, map[string]string{"signature": base64.StdEncoding.EncodeToString(sig)}, &out)
		return st, out
	}
	cliSign := func(o official, file string) []byte {
		out := filepath.Join(dir, o.pinfl+"-"+filepath.Base(file)+".p7s")
		s.mustCLI("sign", file, "--cert", o.chain, "--key", o.key, "--level", "B-T", "--tsa", s.http+"/pki/tsa", "--out", out)
		b, _ := os.ReadFile(out)
		return b
	}

	// B first: out of order. The stranger: not named. A over another text.
	if st, out := submit(b, cliSign(b, filepath.Join(dir, "decision.txt"))); st != 409 || out["error"] != "out_of_order" {
		t.Fatalf("out of order: %d %v", st, out)
	}
	if st, out := submit(stranger, cliSign(stranger, filepath.Join(dir, "decision.txt"))); st != 403 {
		t.Fatalf("stranger: %d %v", st, out)
	}
	write(t, dir, "other.txt", "Qaror № 43\n")
	if st, out := submit(a, cliSign(a, filepath.Join(dir, "other.txt"))); st != 422 {
		t.Fatalf("signature over another document: %d %v", st, out)
	}
	sigA := cliSign(a, filepath.Join(dir, "decision.txt"))
	if st, out := submit(b, sigA); st != 403 || out["error"] != "not_your_signature" {
		t.Fatalf("B submitting A's signature: %d %v", st, out)
	}

	// 1. A with the CLI.
	if st, out := submit(a, sigA); st != 201 {
		t.Fatalf("A: %d %v", st, out)
	}
	if st, out := submit(a, sigA); st != 409 {
		t.Fatalf("A again: %d %v", st, out)
	}
	// 2. B with OpenSSL (the key decrypted for OpenSSL's sake).
	mustOpenSSL(t, dir, "pkey", "-in", filepath.Base(b.key), "-passin", "env:YAGONA_KEY_PASSPHRASE", "-out", "b-plain.pem")
	mustOpenSSL(t, dir, "cms", "-sign", "-cades", "-binary", "-in", "decision.txt", "-signer", filepath.Base(b.chain), "-inkey", "b-plain.pem",
		"-outform", "DER", "-out", "b.p7s")
	sigB, _ := os.ReadFile(filepath.Join(dir, "b.p7s"))
	if st, out := submit(b, sigB); st != 201 {
		t.Fatalf("B: %d %v", st, out)
	}
	// 3. C with the agent, as the portal page would ask it.
	st, agOut := s.agentSignDocument(c, doc, false)
	if st != http.StatusOK {
		t.Fatalf("agent: %d %+v", st, agOut)
	}
	sigC, _ := base64.StdEncoding.DecodeString(agOut.Signature)
	var final map[string]any
	if st, out := submit(c, sigC); st != 201 || out["state"] != "final" {
		t.Fatalf("C: %d %v", st, out)
	} else {
		final = out
	}
	_ = final

	// The combined CMS verifies with OpenSSL.
	combined := s.fetchAuth("/api/v1/decisions/"+d.ID+"/combined", "")
	write(t, dir, "combined.p7s", string(combined))
	write(t, dir, "root.pem", s.rootPEM)
	mustOpenSSL(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "combined.p7s", "-content", "decision.txt", "-CAfile", "root.pem",
		"-purpose", "any", "-out", "/dev/null")

	// The webhook, signed with the decision's secret.
	select {
	case r := <-hooks:
		b := <-bodies
		mac := hmac.New(sha256.New, []byte(d.WebhookSecret))
		mac.Write(b)
		if r.Header.Get("X-Yagona-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) || !strings.Contains(string(b), `"state":"final"`) {
			t.Fatalf("webhook: %s %s", r.Header.Get("X-Yagona-Signature"), b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook")
	}

	// The public page checks a document.
	page := s.postFile("/d/"+d.ID+"?lang=en", "document", doc)
	if !strings.Contains(page, "matches this decision") || !strings.Contains(page, "final") {
		t.Fatalf("public page, right document: %s", page)
	}
	if page := s.postFile("/d/"+d.ID+"?lang=en", "document", []byte("forged")); !strings.Contains(page, "does NOT match") {
		t.Fatalf("public page, wrong document: %s", page)
	}
	// Evidence, and the log.
	var ev struct {
		Signatures []json.RawMessage `json:"signatures"`
	}
	s.api("GET", "/api/v1/decisions/"+d.ID+"/evidence", "", nil, &ev)
	if len(ev.Signatures) != 3 {
		t.Fatalf("evidence: %d signatures", len(ev.Signatures))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.client.Get(s.https + "/log/proof/decision/" + d.ID)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				write(t, dir, "proof.json", string(b))
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the decision never reached the log")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.mustCLI("log", "fetch", "--what", "key", "--out", filepath.Join(dir, "log.key"))
	if out := s.mustCLI("log", "verify", "--key-file", filepath.Join(dir, "log.key"), "--bundle", filepath.Join(dir, "proof.json")); !strings.Contains(out, "OK: decision "+d.ID) {
		t.Fatalf("log verify: %s", out)
	}
	// A final decision takes no more signatures and cannot be withdrawn.
	if st, _ := submit(stranger, cliSign(stranger, filepath.Join(dir, "decision.txt"))); st != 409 {
		t.Fatalf("signing a final decision: %d", st)
	}
	if st := s.api("POST", "/api/v1/decisions/"+d.ID+"/withdraw", svc.AccessToken, nil, nil); st != 409 {
		t.Fatalf("withdrawing a final decision: %d", st)
	}
	_ = fmt.Sprint
}

func (s *testServer) fetchAuth(path, token string) []byte {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.https+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func (s *testServer) postFile(path, field string, content []byte) string {
	s.t.Helper()
	var body bytes.Buffer
	mw := newMultipart(&body)
	w, _ := mw.CreateFormFile(field, "doc")
	_, _ = w.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.https+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func newMultipart(w io.Writer) *multipart.Writer { return multipart.NewWriter(w) }

// TestDecisionByHash: a decision registered by the document's SHA-256
// only; a parallel 1-of-2 policy is final with one valid signature; the
// service's webhook fails once and the outbox delivers it on a later try.
func TestDecisionByHash(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	a := s.official(dir, "45555555555555", "Aziza")
	svc := s.serviceToken("hash-svc")

	var calls atomic.Int32
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got <- string(b)
	}))
	defer hook.Close()

	doc := []byte("a long contract kept by the service\n")
	write(t, dir, "contract.txt", string(doc))
	sum := sha256.Sum256(doc)
	var d struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	in := map[string]any{"title": "Shartnoma", "document_sha256": hex.EncodeToString(sum[:]), "document_size": len(doc),
		"deadline": time.Now().Add(time.Hour).Format(time.RFC3339), "webhook_url": hook.URL,
		"policy": map[string]any{"required": 1, "signers": []map[string]string{{"pinfl": a.pinfl}, {"pinfl": "49999999999999"}}}}
	if st := s.api("POST", "/api/v1/decisions", svc.AccessToken, in, &d); st != 201 {
		t.Fatalf("register by hash: %d", st)
	}
	if st := s.api("GET", "/api/v1/decisions/"+d.ID+"/document", a.token, nil, nil); st != 404 {
		t.Fatalf("document of a hash-only decision: %d", st)
	}
	write(t, dir, "tampered.txt", "a long contract kept by the servicE\n")
	bad := filepath.Join(dir, "tampered.p7s")
	s.mustCLI("sign", filepath.Join(dir, "tampered.txt"), "--cert", a.chain, "--key", a.key, "--level", "B-B", "--out", bad)
	badSig, _ := os.ReadFile(bad)
	if st := s.api("POST", "/api/v1/decisions/"+d.ID+"/signatures", a.token, map[string]string{"signature": base64.StdEncoding.EncodeToString(badSig)}, nil); st != 422 {
		t.Fatalf("a signature over another document against the hash: %d", st)
	}
	out := filepath.Join(dir, "contract.p7s")
	s.mustCLI("sign", filepath.Join(dir, "contract.txt"), "--cert", a.chain, "--key", a.key, "--level", "B-B", "--out", out)
	sig, _ := os.ReadFile(out)
	var res map[string]any
	if st := s.api("POST", "/api/v1/decisions/"+d.ID+"/signatures", a.token, map[string]string{"signature": base64.StdEncoding.EncodeToString(sig)}, &res); st != 201 || res["state"] != "final" {
		t.Fatalf("sign by hash: %d %v", st, res)
	}
	select {
	case b := <-got:
		if !strings.Contains(b, `"state":"final"`) || calls.Load() < 2 {
			t.Fatalf("webhook after a failure: %d calls, %s", calls.Load(), b)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the webhook was not retried (%d calls)", calls.Load())
	}
}

type serviceToken struct {
	AccessToken string `json:"access_token"`
}

// serviceToken registers a service client with scope decisions and gets
// its client-credentials token.
func (s *testServer) serviceToken(id string) serviceToken {
	s.t.Helper()
	secret := s.registerClient("--id", id, "--name", "Service "+id, "--grant", "client_credentials", "--scope", "decisions")
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"decisions"}}
	req, _ := http.NewRequest("POST", s.https+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok serviceToken
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		s.t.Fatalf("service token: %v", err)
	}
	return tok
}

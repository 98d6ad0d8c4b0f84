package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/statement"
	"github.com/yagona/yagona/pkg/validation"
)

// statementLogin is a pending login of one browser, for a service, as an
// attacker who asks a person to sign "a document" would start it.
type statementLogin struct {
	s  *testServer
	br *http.Client
	id string
}

// startLogin sends a fresh browser to the authorization endpoint of
// clientID and returns its pending login request.
func (s *testServer) startLogin(clientID, redirect string) *statementLogin {
	s.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"st"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	br := s.browser()
	resp, err := br.Get(s.https + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	id, ok := strings.CutPrefix(resp.Header.Get("Location"), "/login?request=")
	if resp.StatusCode != http.StatusFound || !ok {
		s.t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return &statementLogin{s: s, br: br, id: id}
}

// challenge asks for a (new) login statement for the request.
func (l *statementLogin) challenge() string {
	var ch struct {
		ToSign string `json:"to_sign"`
	}
	l.s.postJSON(l.br, "/login/challenge", map[string]string{"request": l.id}, &ch, http.StatusOK)
	return ch.ToSign
}

// finish submits a CMS signature and returns the answer.
func (l *statementLogin) finish(der []byte) (int, map[string]string) {
	b, _ := json.Marshal(map[string]string{"request": l.id, "signature": base64.StdEncoding.EncodeToString(der)})
	req, _ := http.NewRequest(http.MethodPost, l.s.https+"/login/certificate", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.br.Do(req)
	if err != nil {
		l.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]string
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// TestLoginStatementIsNotADocument: the attack of issue 11 — a service
// gets a login statement for another service and asks a person to sign it
// as "a document" — fails on every path: `yagona sign` and the agent's
// document request refuse to sign it, a decision refuses it as its
// document, the validator reports a login CMS as no document signature,
// and the login endpoint refuses a CMS over a statement that was altered,
// issued earlier or issued for another login, whoever made it (pkg/cms,
// OpenSSL). The exact statement, signed with OpenSSL, still logs in.
func TestLoginStatementIsNotADocument(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	o := s.official(dir, "41111111111111", "Akmal") // logs in with the CLI
	s.registerClient("--id", "victim-svc", "--name", "Victim service", "--redirect-uri", "https://victim.example/callback", "--scope", "openid")
	keyPEM, _ := os.ReadFile(o.key)
	key, err := kms.DecryptPEM(keyPEM, []byte("a long passphrase for tests"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certfile.Read(o.chain)
	if err != nil {
		t.Fatal(err)
	}
	mustOpenSSL(t, dir, "pkey", "-in", filepath.Base(o.key), "-passin", "env:YAGONA_KEY_PASSPHRASE", "-out", "plain.pem")
	craft := func(content string) []byte { // what any CMS library makes
		der, err := cms.Sign([]byte(content), certs[0], certs[1:], key, false, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	withOpenSSL := func(content string, extra ...string) []byte {
		write(t, dir, "content.txt", content)
		args := append([]string{"cms", "-sign", "-binary", "-nodetach", "-in", "content.txt", "-signer", filepath.Base(o.chain), "-inkey", "plain.pem",
			"-outform", "DER", "-out", "content.p7s"}, extra...)
		mustOpenSSL(t, dir, args...)
		der, _ := os.ReadFile(filepath.Join(dir, "content.p7s"))
		return der
	}

	victim := s.startLogin("victim-svc", "https://victim.example/callback")
	text := victim.challenge()
	st, err := statement.Parse([]byte(text))
	if err != nil || st.Issuer != s.https || st.Origin != s.https || st.ClientID != "victim-svc" || st.ClientName != "Victim service" ||
		st.Request != victim.id || !st.ExpiresAt.After(st.IssuedAt) {
		t.Fatalf("statement %+v, %v:\n%s", st, err, text)
	}
	write(t, dir, "document.txt", text)

	t.Run("yagona sign refuses", func(t *testing.T) {
		out := filepath.Join(dir, "document.p7s")
		_, err := s.cli("sign", filepath.Join(dir, "document.txt"), "--cert", o.chain, "--key", o.key, "--attached", "--level", "B-B", "--out", out)
		if err == nil || !strings.Contains(err.Error(), "is a login statement, not a document") {
			t.Fatalf("yagona sign: %v", err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("a signature was written: %v", err)
		}
	})
	t.Run("the agent's document request refuses", func(t *testing.T) {
		if st, out := s.agentSignDocument(o, []byte(text), true); st != http.StatusUnprocessableEntity || out.Error != "login_statement" || out.Signature != "" {
			t.Fatalf("agent: %d %+v", st, out)
		}
	})
	t.Run("a decision refuses it as its document", func(t *testing.T) {
		svc := s.serviceToken("registry")
		in := map[string]any{"title": "Contract", "document": base64.StdEncoding.EncodeToString([]byte(text)),
			"deadline": time.Now().Add(time.Hour).Format(time.RFC3339), "policy": map[string]any{"signers": []map[string]string{{"pinfl": o.pinfl}}}}
		var out map[string]any
		if st := s.api("POST", "/api/v1/decisions", svc.AccessToken, in, &out); st != http.StatusUnprocessableEntity || out["error"] != "login_statement" {
			t.Fatalf("register: %d %v", st, out)
		}
	})
	t.Run("the validator reports no document signature", func(t *testing.T) {
		detached, err := cms.Sign([]byte(text), certs[0], certs[1:], key, true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, "login.p7s", string(craft(text)))
		write(t, dir, "login-detached.p7s", string(detached))
		for _, args := range [][]string{{filepath.Join(dir, "login.p7s")}, {filepath.Join(dir, "document.txt"), filepath.Join(dir, "login-detached.p7s")}} {
			out, err := s.cli(append([]string{"verify", "--json"}, args...)...)
			var rep validation.Report
			if err == nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Indication != validation.TotalFailed || rep.SubIndication != validation.FormatFailure {
				t.Fatalf("verify %v: %v %s", args, err, out)
			}
			if !strings.Contains(out, `"constraint": "login_statement"`) || !strings.Contains(out, "this is a login statement, not a document") {
				t.Fatalf("report without the reason: %s", out)
			}
		}
	})

	other := s.startLogin("victim-svc", "https://victim.example/callback")
	for _, tc := range []struct {
		name string
		sign func(current string) []byte
	}{
		{"an altered statement (pkg/cms)", func(cur string) []byte { return craft(strings.Replace(cur, "Victim service", "A contract", 1)) }},
		{"an altered statement (openssl)", func(cur string) []byte {
			return withOpenSSL(strings.Replace(cur, "Victim service", "A contract", 1), "-cades")
		}},
		{"a statement issued earlier (openssl)", func(string) []byte { return withOpenSSL(text, "-cades") }},
		{"another login's statement (pkg/cms)", func(string) []byte { return craft(other.challenge()) }},
		{"another login's statement (openssl)", func(string) []byte { return withOpenSSL(other.challenge()) }},
		{"a document (openssl)", func(string) []byte { return withOpenSSL("Contract no. 5\n", "-cades") }},
	} {
		t.Run("the login refuses "+tc.name, func(t *testing.T) {
			cur := victim.challenge() // each refusal uses up the challenge
			st, out := victim.finish(tc.sign(cur))
			if st != http.StatusBadRequest || out["error"] != "invalid_signature" || !strings.Contains(out["error_description"], "not this login's statement") {
				t.Fatalf("login: %d %v", st, out)
			}
		})
	}
	t.Run("the exact statement signed with openssl logs in", func(t *testing.T) {
		st, out := victim.finish(withOpenSSL(victim.challenge()))
		if st != http.StatusOK || !strings.HasPrefix(out["redirect"], "https://victim.example/callback?code=") {
			t.Fatalf("login: %d %v", st, out)
		}
	})
}

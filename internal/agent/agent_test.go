package agent

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/statement"
)

const page = "https://id.example.uz"

func newAgent(t *testing.T) (*Agent, string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "Dilnoza Karimova", SerialNumber: "PNOUZ-31204900012345"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := New(Config{Identities: []Identity{{Certificate: cert, Key: other}}, Origins: []string{page}}); err == nil {
		t.Fatal("a key that does not match its certificate was accepted")
	}
	a, err := New(Config{Identities: []Identity{{Certificate: cert, Key: k}}, Origins: []string{page}})
	if err != nil {
		t.Fatal(err)
	}
	return a, a.list[0].ID
}

// challenge is a login statement issued by the provider at origin.
func challenge(origin string) string {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b, err := statement.Build(statement.Statement{Issuer: origin, ClientID: "rp", ClientName: "A service", Origin: origin,
		Request: "abc", Nonce: strings.Repeat("A", 43), IssuedAt: at, ExpiresAt: at.Add(2 * time.Minute)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func call(a *Agent, method, host, origin, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://"+host+"/v1/sign", strings.NewReader(body))
	if strings.HasSuffix(body, "keys") {
		req = httptest.NewRequest(method, "http://"+host+"/v1/keys", nil)
	}
	req.Host = host
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	return w
}

func signBody(key, toSign string) string {
	b, _ := json.Marshal(map[string]string{"key": key, "to_sign": toSign})
	return string(b)
}

func TestSign(t *testing.T) {
	a, id := newAgent(t)
	w := call(a, http.MethodPost, "127.0.0.1:8765", page, signBody(id, challenge(page)), nil)
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != page {
		t.Fatalf("sign: %d %s %v", w.Code, w.Body, w.Header())
	}
	var out struct{ Signature string }
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	der, _ := base64.StdEncoding.DecodeString(out.Signature)
	s, err := cms.Verify(der, nil)
	if err != nil || !bytes.Equal(s.Content, []byte(challenge(page))) {
		t.Fatalf("signature: %v", err)
	}
	w = call(a, http.MethodGet, "localhost:8765", "", "keys", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"pinfl":"31204900012345"`) {
		t.Fatalf("keys: %d %s", w.Code, w.Body)
	}
}

func TestRefusals(t *testing.T) {
	a, id := newAgent(t)
	tests := []struct {
		name, host, origin, body string
		status                   int
	}{
		{"other origin line", "127.0.0.1:8765", page, signBody(id, challenge("https://evil.example")), 403},
		{"origin not allowed", "127.0.0.1:8765", "https://evil.example", signBody(id, challenge("https://evil.example")), 403},
		{"no origin", "127.0.0.1:8765", "", signBody(id, challenge(page)), 403},
		{"rebinding host", "evil.example:8765", page, signBody(id, challenge(page)), 403},
		{"extra line", "127.0.0.1:8765", page, signBody(id, challenge(page)+"\nmore: x"), 403},
		{"wrong header", "127.0.0.1:8765", page, signBody(id, strings.Replace(challenge(page), "statement v2", "statement v3", 1)), 403},
		{"version 1", "127.0.0.1:8765", page, signBody(id, "yagona-login-v1\norigin: "+page+"\nrequest: abc\nnonce: "+strings.Repeat("A", 43)+"\nissued-at: 2026-11-23T10:00:00Z"), 403},
		{"CRLF", "127.0.0.1:8765", page, signBody(id, strings.ReplaceAll(challenge(page), "\n", "\r\n")), 403},
		{"short nonce", "127.0.0.1:8765", page, signBody(id, strings.Replace(challenge(page), strings.Repeat("A", 43), "AAAA", 1)), 403},
		{"arbitrary document", "127.0.0.1:8765", page, signBody(id, "I owe you 1,000,000 so'm"), 403},
		{"unknown key", "127.0.0.1:8765", page, signBody("00", challenge(page)), 404},
		{"unknown field", "127.0.0.1:8765", page, `{"key":"` + id + `","to_sign":"x","extra":1}`, 400},
		{"oversized", "127.0.0.1:8765", page, signBody(id, strings.Repeat("x", maxBody)), 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := call(a, http.MethodPost, tc.host, tc.origin, tc.body, nil)
			if w.Code != tc.status || strings.Contains(w.Body.String(), "signature") {
				t.Fatalf("got %d %s; want %d and no signature", w.Code, w.Body, tc.status)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	a, _ := newAgent(t)
	w := call(a, http.MethodOptions, "127.0.0.1:8765", page, "", map[string]string{"Access-Control-Request-Private-Network": "true", "Access-Control-Request-Method": "POST"})
	h := w.Header()
	if w.Code != 204 || h.Get("Access-Control-Allow-Private-Network") != "true" || h.Get("Access-Control-Allow-Origin") != page || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", w.Code, h)
	}
	w = call(a, http.MethodOptions, "127.0.0.1:8765", page, "", nil)
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Private-Network") != "" {
		t.Fatalf("preflight without PNA: %d %v", w.Code, w.Header())
	}
	w = call(a, http.MethodOptions, "127.0.0.1:8765", "https://evil.example", "", nil)
	if w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", w.Code, w.Header())
	}
}

// TestSignDocument: a document is signed; a login statement, whole,
// altered or cut short, is never signed as one.
func TestSignDocument(t *testing.T) {
	a, id := newAgent(t)
	for _, tc := range []struct {
		name, doc string
		status    int
		code      string
	}{
		{"document", "Contract no. 5", http.StatusOK, ""},
		{"login statement", challenge(page), http.StatusUnprocessableEntity, "login_statement"},
		{"altered login statement", strings.Replace(challenge(page), "A service", "Contract", 1), http.StatusUnprocessableEntity, "login_statement"},
		{"truncated login statement", challenge(page)[:60], http.StatusUnprocessableEntity, "login_statement"},
		{"CRLF login statement", strings.ReplaceAll(challenge(page), "\n", "\r\n"), http.StatusUnprocessableEntity, "login_statement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"key": id, "document": base64.StdEncoding.EncodeToString([]byte(tc.doc)), "attached": true})
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8765/v1/sign-document", bytes.NewReader(b))
			req.Header.Set("Origin", page)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			a.Handler().ServeHTTP(w, req)
			var out struct{ Error, Signature string }
			_ = json.Unmarshal(w.Body.Bytes(), &out)
			if w.Code != tc.status || out.Error != tc.code || (tc.code != "") != (out.Signature == "") {
				t.Fatalf("got %d %s; want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/store"
)

// TestAPIBadInput sends malformed, oversized, unauthenticated and hostile
// requests: each gets a 4xx with a problem document (RFC 9457), never a
// 5xx.
func TestAPIBadInput(t *testing.T) {
	s := startServer(t, nil)
	tok := s.adminToken()
	s.mustCLI("ra", "person", "add", "--pinfl", "50505050505050", "--given-name", "Ali", "--surname", "Valiyev", "--birth-date", "1970-07-07")
	big := `{"csr":"` + strings.Repeat("A", 70<<10) + `","enrollment_code":"x"}`
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		code                                   string
	}{
		{"unknown route", "GET", "/api/v1/nothing", "", "", "", 404, "not_found"},
		{"wrong method", "DELETE", "/api/v1/certificates", "", "", "", 405, "method_not_allowed"},
		{"no token", "POST", "/api/v1/persons", "", "application/json", `{}`, 401, "unauthorized"},
		{"bad token", "POST", "/api/v1/persons", "yop_admin_" + strings.Repeat("x", 43), "application/json", `{}`, 401, "unauthorized"},
		{"malformed json", "POST", "/api/v1/persons", tok, "application/json", `{"pinfl":`, 400, "bad_json"},
		{"unknown field", "POST", "/api/v1/persons", tok, "application/json", `{"pinfl":"1","admin":true}`, 400, "bad_json"},
		{"trailing json", "POST", "/api/v1/persons", tok, "application/json", `{} {}`, 400, "bad_json"},
		{"wrong type", "POST", "/api/v1/persons", tok, "application/json", `{"pinfl":14}`, 400, "bad_json"},
		{"not json", "POST", "/api/v1/persons", tok, "text/plain", `hi`, 415, "unsupported_media_type"},
		{"invalid pinfl", "POST", "/api/v1/persons", tok, "application/json", `{"pinfl":"123","given_name":"A","surname":"B","birth_date":"1990-01-01"}`, 400, "invalid_pinfl"},
		{"duplicate person", "POST", "/api/v1/persons", tok, "application/json", `{"pinfl":"50505050505050","given_name":"A","surname":"B","birth_date":"1990-01-01"}`, 409, "already_exists"},
		{"invalid tin", "POST", "/api/v1/organizations", tok, "application/json", `{"tin":"12","name":"X"}`, 400, "invalid_tin"},
		{"unknown profile", "POST", "/api/v1/enrollments", tok, "application/json", `{"pinfl":"50505050505050","profile":"king"}`, 400, "unknown_profile"},
		{"system profile", "POST", "/api/v1/enrollments", tok, "application/json", `{"pinfl":"50505050505050","profile":"system"}`, 400, "unknown_profile"},
		{"enroll unknown person", "POST", "/api/v1/enrollments", tok, "application/json", `{"pinfl":"11111111111111","profile":"citizen"}`, 404, "not_found"},
		{"oversized body", "POST", "/api/v1/certificates", "", "application/json", big, 413, "too_large"},
		{"bad code", "POST", "/api/v1/certificates", "", "application/json", `{"csr":"x","enrollment_code":"nope"}`, 401, "invalid_code"},
		{"revoke unknown", "POST", "/api/v1/certificates/abcdef/revoke", tok, "application/json", `{"reason":"keyCompromise"}`, 404, "not_found"},
		{"revoke bad serial", "POST", "/api/v1/certificates/zz!/revoke", tok, "", "", 400, "bad_serial"},
		{"revoke bad reason", "POST", "/api/v1/certificates/abcdef/revoke", tok, "application/json", `{"reason":"bored"}`, 400, "bad_reason"},
		{"holder without cert", "POST", "/api/v1/certificates/abcdef/revoke", "", "", "", 401, "unauthorized"},
		{"renew without cert", "POST", "/api/v1/certificates/renew", "", "application/json", `{"csr":"x"}`, 401, "unauthorized"},
		{"list bad pinfl", "GET", "/api/v1/certificates?pinfl=1", tok, "", "", 400, "invalid_pinfl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.https+c.path, bytes.NewReader([]byte(c.body)))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var p struct {
				Status  int    `json:"status"`
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("status %d, body not JSON: %q", resp.StatusCode, body)
			}
			if resp.StatusCode != c.status || p.Status != c.status || p.Error != c.code || p.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, p, c.status, c.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
		})
	}
}

// TestFailureRateLimit: one address that keeps failing is refused for a
// while with 429.
func TestFailureRateLimit(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.CA.FailuresPerMinute = 3 })
	var last int
	for range 5 {
		last = s.api("POST", "/api/v1/certificates", "", map[string]string{"csr": "x", "enrollment_code": "0000000000-00000-00000-00000-00000"}, nil)
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("status %d after repeated failures, want 429", last)
	}
}

// TestReadiness: /healthz and /readyz answer on both listeners.
func TestReadiness(t *testing.T) {
	s := startServer(t, nil)
	for _, u := range []string{s.http + "/healthz", s.http + "/readyz", s.http + "/metrics", s.http + "/pki/roots.pem", s.http + "/pki/ca.pem"} {
		if b := s.fetch(u); len(b) == 0 {
			t.Errorf("%s: empty", u)
		}
	}
	resp, err := s.client.Get(s.https + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https readyz: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestOperatorAdd: an officer with a credential of their own acts, and the
// audit trail names them.
func TestOperatorAdd(t *testing.T) {
	s := startServer(t, nil)
	tokFile := filepath.Join(t.TempDir(), "officer.token")
	s.mustCLI("operator", "add", "--id", "officer-1", "--out", tokFile)
	if _, err := s.cli("operator", "add", "--id", "officer-1", "--out", tokFile+"2"); err == nil {
		t.Fatal("duplicate operator id accepted")
	}
	s.mustCLI("ra", "person", "add", "--token-file", tokFile, "--pinfl", "70707070707070", "--given-name", "Nodira", "--surname", "Yusupova", "--birth-date", "1988-08-08")
	st, err := store.Open(context.Background(), s.cfg.StoreURL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action == "person.create" && e.Subject == "70707070707070" && e.Actor == "admin:officer-1" {
			return
		}
	}
	t.Fatalf("no audit entry naming officer-1: %+v", evs)
}

// TestConcurrentEnrollmentHTTP: one enrollment code sent by 20 concurrent
// requests over HTTPS issues exactly one certificate; the others get 409.
func TestConcurrentEnrollmentHTTP(t *testing.T) {
	s := startServer(t, nil)
	s.mustCLI("ra", "person", "add", "--pinfl", "80808080808080", "--given-name", "Jasur", "--surname", "Aliyev", "--birth-date", "1995-05-05")
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", "80808080808080")), &enr); err != nil {
		t.Fatal(err)
	}
	const n = 20
	csrs := make([]string, n)
	for i := range csrs {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
		csrs[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p struct {
				Error string `json:"error"`
			}
			statuses[i] = s.api("POST", "/api/v1/certificates", "", map[string]string{"csr": csrs[i], "enrollment_code": enr.Code}, &p)
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", st)
		}
	}
	out := s.mustCLI("cert", "list", "--json", "--pinfl", "80808080808080")
	if created != 1 || strings.Count(out, `"serial"`) != 1 {
		t.Fatalf("%d created; list: %s", created, out)
	}
}

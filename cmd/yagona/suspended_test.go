package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yagona/yagona/pkg/validation"
)

// TestSuspendedReadsTheSame: one suspended certificate, read by every
// use of its status through the trust component: the login refuses it as
// suspended, the validation report says suspended (INDETERMINATE
// TRY_LATER without proof of earlier existence), OCSP answers revoked
// with certificateHold, and `yagona cert show` prints suspended.
func TestSuspendedReadsTheSame(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	serial := s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)
	s.registerClient("--id", "gov-service", "--name", "Davlat xizmati", "--redirect-uri", "https://service.example/callback", "--scope", "openid")
	write(t, dir, "doc.txt", "Qaror № 17\n")
	mustOpenSSL(t, dir, "cms", "-sign", "-cades", "-binary", "-in", "doc.txt", "-signer", "leaf.pem", "-inkey", "key.pem",
		"-certfile", "issuing.pem", "-outform", "DER", "-out", "doc.p7s")

	s.mustCLI("cert", "suspend", "--serial", serial)

	// Login.
	q := url.Values{"response_type": {"code"}, "client_id": {"gov-service"}, "redirect_uri": {"https://service.example/callback"},
		"scope": {"openid"}, "state": {"st"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}
	st, body := s.opensslLoginAttempt(s.browser(), dir, s.https+"/oauth2/authorize?"+q.Encode())
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &refusal); err != nil || st != http.StatusForbidden || refusal.Description != "the certificate is suspended" {
		t.Errorf("login: %d %s", st, body)
	}
	// Validation.
	var rep validation.Report
	out, _ := s.cli("verify", "--json", dir+"/doc.txt", dir+"/doc.p7s")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Signers) != 1 || rep.Signers[0].Revocation == nil ||
		rep.Signers[0].Revocation.State != "suspended" || rep.SubIndication != validation.TryLater {
		t.Errorf("validation report: %s", out)
	}
	// OCSP.
	if out := s.ocspStatus(dir, false); !strings.Contains(out, "leaf.pem: revoked") || !strings.Contains(out, "certificateHold") {
		t.Errorf("OCSP:\n%s", out)
	}
	// The command line.
	if out := s.mustCLI("cert", "show", "--serial", serial); !strings.Contains(out, "status:  suspended (certificateHold since") {
		t.Errorf("yagona cert show:\n%s", out)
	}
}

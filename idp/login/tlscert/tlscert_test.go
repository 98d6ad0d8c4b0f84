package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/login/logintest"
	"github.com/yagona/yagona/idp/pages"
)

const reqID = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func testCert(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestStep runs the method's one step against a test host: which
// certificate it hands over as which proof, and its refusals.
func TestStep(t *testing.T) {
	onTLS, inter, forwarded := testCert(t, "tls"), testCert(t, "inter"), testCert(t, "forwarded")
	header := url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: forwarded.Raw})))
	type request struct {
		id      string
		tls     bool   // the connection carries onTLS and inter
		forward string // X-Client-Cert
	}
	for _, tc := range []struct {
		name    string
		cfg     Config
		host    func(h *logintest.Host)
		req     request
		status  int
		proof   string            // the proof's method, for a login
		leaf    *x509.Certificate // its certificate
		failed  bool
		outcome string
	}{
		{"tls", Config{}, nil, request{reqID, true, ""}, http.StatusFound, Name, onTLS, false, "ok"},
		{"no certificate", Config{}, nil, request{reqID, false, ""}, http.StatusBadRequest, "", nil, true, ""},
		{"forwarded by a trusted proxy", Config{ForwardedHeader: "X-Client-Cert"}, func(h *logintest.Host) { h.Proxies = true },
			request{reqID, true, header}, http.StatusFound, Forwarded, forwarded, false, "ok"},
		{"forwarded by another peer", Config{ForwardedHeader: "X-Client-Cert"}, nil,
			request{reqID, false, header}, http.StatusBadRequest, "", nil, true, ""},
		{"forwarded, not configured", Config{}, func(h *logintest.Host) { h.Proxies = true },
			request{reqID, false, header}, http.StatusBadRequest, "", nil, true, ""},
		{"forwarded garbage", Config{ForwardedHeader: "X-Client-Cert"}, func(h *logintest.Host) { h.Proxies = true },
			request{reqID, true, "%%%"}, http.StatusBadRequest, "", nil, true, ""},
		{"forwarded non-certificate PEM", Config{ForwardedHeader: "X-Client-Cert"}, func(h *logintest.Host) { h.Proxies = true },
			request{reqID, false, url.QueryEscape("-----BEGIN KEY-----\nMAA=\n-----END KEY-----\n")}, http.StatusBadRequest, "", nil, true, ""},
		{"source limited", Config{}, func(h *logintest.Host) { h.LimitSources = true },
			request{reqID, true, ""}, http.StatusTooManyRequests, "", nil, false, ""},
		{"unknown request", Config{}, nil, request{strings.Repeat("B", 43), true, ""}, http.StatusBadRequest, "", nil, false, ""},
		{"the host refuses the certificate", Config{}, func(h *logintest.Host) {
			h.Refuse = &login.Error{Status: http.StatusForbidden, Code: login.CodeRefused, Detail: "revoked"}
		}, request{reqID, true, ""}, http.StatusForbidden, Name, onTLS, true, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := logintest.New("https://id.example", "https://rp.example/cb?code=c")
			h.AddRequest(reqID, "rp1", "b")
			if tc.host != nil {
				tc.host(h)
			}
			mux := http.NewServeMux()
			for _, rt := range New(tc.cfg).Routes(h) {
				mux.Handle(rt.Pattern, rt.Handler)
			}
			r := httptest.NewRequest(http.MethodGet, Path+"?request="+tc.req.id, nil)
			r.TLS = &tls.ConnectionState{}
			if tc.req.tls {
				r.TLS.PeerCertificates = []*x509.Certificate{onTLS, inter}
			}
			if tc.req.forward != "" {
				r.Header.Set("X-Client-Cert", tc.req.forward)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d %s; want %d", w.Code, w.Body, tc.status)
			}
			if failed := len(h.Failures()) > 0; failed != tc.failed {
				t.Fatalf("failures %v; want some: %v", h.Failures(), tc.failed)
			}
			if out := h.Outcomes(); (tc.outcome == "") != (len(out) == 0) || (tc.outcome != "" && out[0] != tc.outcome) {
				t.Fatalf("outcomes %v; want %q", out, tc.outcome)
			}
			proofs := h.Proofs()
			if tc.proof == "" {
				if len(proofs) != 0 {
					t.Fatalf("proofs %+v", proofs)
				}
				return
			}
			if len(proofs) != 1 || proofs[0].Method != tc.proof || !proofs[0].Leaf.Equal(tc.leaf) {
				t.Fatalf("proofs %+v", proofs)
			}
			if tc.status == http.StatusFound && w.Header().Get("Location") != h.Next {
				t.Fatalf("sent to %q", w.Header().Get("Location"))
			}
		})
	}
}

// TestOffer: the page links to the step of its request.
func TestOffer(t *testing.T) {
	var pg pages.LoginPage
	New(Config{}).Offer(&pg, reqID)
	if pg.TLSLoginURL != Path+"?request="+reqID {
		t.Fatalf("page %+v", pg)
	}
}

package idp

import (
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/revocation"
	"github.com/yagona/yagona/pkg/trust"
)

// TestExternalAnchorOCSP: a certificate of another trusted CA logs in
// when its OCSP responder says good; revoked, and an unreachable
// responder (fail closed), refuse it; fail_open admits it when the
// responder is down.
func TestExternalAnchorOCSP(t *testing.T) {
	ext := newTestCA(t, "External")
	var status atomic.Int64 // ocsp.Good, ocsp.Revoked; -1: answer 500
	responder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(b)
		if err != nil || status.Load() < 0 {
			w.WriteHeader(500)
			return
		}
		now := time.Now()
		der, _ := ocsp.CreateResponse(ext.issuing, ext.issuing, ocsp.Response{Status: int(status.Load()), SerialNumber: req.SerialNumber,
			ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Minute), RevokedAt: now.Add(-time.Minute)}, ext.key)
		_, _ = w.Write(der)
	}))
	defer responder.Close()
	for _, tc := range []struct {
		name     string
		status   int64
		failOpen bool
		ok       bool
	}{
		{"good", ocsp.Good, false, true},
		{"revoked", ocsp.Revoked, false, false},
		{"responder down, fail closed", -1, false, false},
		{"responder down, fail open", -1, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends(t)[0], func(c *Config) {
				c.Certs.Trust = mustTrust(t, append(c.Certs.Trust.Anchors(), trust.Anchor{Name: "external", Root: ext.root,
					Intermediates: []*x509.Certificate{ext.issuing}, Status: &revocation.OCSP{Cache: cache.NewMemory(time.Now)}, FailOpen: tc.failOpen})...)
			})
			e.client("rp1", nil)
			status.Store(tc.status)
			h := ext.person(t, "31204900012399", "Ext", "Person", withOCSP(responder.URL))
			br := e.browser()
			id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), nil))
			st, out := e.loginCMS(br, id, h)
			if (st == http.StatusOK) != tc.ok {
				t.Fatalf("login: %d %v; want ok=%v", st, out, tc.ok)
			}
		})
	}
}

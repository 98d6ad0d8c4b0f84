package revocation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/revocation"
)

// Ask another authority's OCSP responder (here one on 127.0.0.1 that has
// revoked serial 42) about two certificates whose chains the caller has
// validated; answers are cached until their nextUpdate.
func ExampleOCSP_Status() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "External CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(der)

	var asked atomic.Int64
	responder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		body, _ := io.ReadAll(r.Body)
		req, _ := ocsp.ParseRequest(body)
		answer := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
		if req.SerialNumber.Int64() == 42 {
			answer.Status, answer.RevokedAt, answer.RevocationReason = ocsp.Revoked, now.Add(-24*time.Hour), ocsp.KeyCompromise
		}
		resp, _ := ocsp.CreateResponse(ca, ca, answer, caKey)
		_, _ = w.Write(resp)
	}))
	defer responder.Close()

	issue := func(serial int64) *x509.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "Person"},
			NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(0, 1, 0), OCSPServer: []string{responder.URL}}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		c, _ := x509.ParseCertificate(der)
		return c
	}

	clock := func() time.Time { return now }
	o := &revocation.OCSP{Cache: cache.NewMemory(clock), Now: clock}
	ctx := context.Background()
	good, revoked := issue(7), issue(42)
	for _, c := range []*x509.Certificate{good, revoked, revoked} {
		st, err := o.Status(ctx, c, ca)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.SerialNumber, st.State, st.Time.Format(time.DateOnly))
	}
	fmt.Println("responder asked", asked.Load(), "times")
	// Output:
	// 7 good 0001-01-01
	// 42 revoked 2026-03-01
	// 42 revoked 2026-03-01
	// responder asked 2 times
}

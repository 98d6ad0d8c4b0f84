package cades_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/yagona/yagona/pkg/cades"
	"github.com/yagona/yagona/pkg/cms"
)

// A B-T signature: the document signed with the person's key, then a
// time-stamp from the TSA over the signature value.
func Example() {
	tsaCert, tsaKey := selfSigned("TSA", true)
	tsa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := timestamp.ParseRequest(body)
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
			Time: time.Now(), Policy: asn1.ObjectIdentifier{2, 999, 1}}
		resp, _ := ts.CreateResponseWithOpts(tsaCert, tsaKey, crypto.SHA256)
		_, _ = w.Write(resp)
	}))
	defer tsa.Close()

	cert, key := selfSigned("Dilnoza Karimova", false)
	s := cades.Signer{Chain: []*x509.Certificate{cert}, Key: key, TSA: tsa.URL}
	doc := []byte("Qaror No 17")
	sig, err := s.Sign(context.Background(), doc, true, cades.LevelT)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := cms.Verify(sig, doc)
	fmt.Println(err, len(p.Signers), len(p.Signers[0].Timestamps))
	// Output: <nil> 1 1
}

func selfSigned(name string, timeStamping bool) (*x509.Certificate, crypto.Signer) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if timeStamping {
		eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/trust"
)

// TestTLSNamesClientCAs: the HTTPS listener's CertificateRequest names our
// issuing CA, and a certificate of another CA is still taken (the CA and
// the IdP verify the chain themselves).
func TestTLSNamesClientCAs(t *testing.T) {
	a := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []*x509.Certificate, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s := tls.Server(c, a.tlsConfig())
		if s.Handshake() == nil {
			got <- s.ConnectionState().PeerCertificates
		}
		close(got)
	}()
	stranger := selfSigned(t, "Not one of ours")
	var acceptable [][]byte
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			acceptable = cri.AcceptableCAs
			return &stranger, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if len(acceptable) != 1 || !bytes.Equal(acceptable[0], a.hier.Issuing.RawSubject) {
		t.Fatalf("acceptable CAs %q, want the issuing CA %q", acceptable, a.hier.Issuing.RawSubject)
	}
	if peer := <-got; len(peer) != 1 || !bytes.Equal(peer[0].Raw, stranger.Certificate[0]) {
		t.Fatal("the server did not take a client certificate of another CA")
	}
}

// TestClientCAs: our anchor is named by its issuing CAs, an external
// anchor by its root and intermediates.
func TestClientCAs(t *testing.T) {
	ours, issuing := selfSigned(t, "Our Root").Leaf, selfSigned(t, "Our Issuing CA").Leaf
	ext, extCA := selfSigned(t, "External Root").Leaf, selfSigned(t, "External CA").Leaf
	for _, tc := range []struct {
		name    string
		anchors []trust.Anchor
		want    []*x509.Certificate
	}{
		{"ours only", []trust.Anchor{{Root: ours, Intermediates: []*x509.Certificate{issuing}}}, []*x509.Certificate{issuing}},
		{"ours without intermediates", []trust.Anchor{{Root: ours}}, []*x509.Certificate{ours}},
		{"and an external anchor", []trust.Anchor{{Root: ours, Intermediates: []*x509.Certificate{issuing}},
			{Root: ext, Intermediates: []*x509.Certificate{extCA}}}, []*x509.Certificate{issuing, ext, extCA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			//nolint:staticcheck // Subjects lists what the CertificateRequest carries.
			subjects := clientCAs(tc.anchors).Subjects()
			if len(subjects) != len(tc.want) {
				t.Fatalf("%d names, want %d", len(subjects), len(tc.want))
			}
			for i, c := range tc.want {
				if !bytes.Equal(subjects[i], c.RawSubject) {
					t.Errorf("name %d is %q, want %q", i, subjects[i], c.RawSubject)
				}
			}
		})
	}
}

func selfSigned(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}
}

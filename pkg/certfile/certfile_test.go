package certfile_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/certfile"
)

func selfSigned(name string) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A chain file: other blocks are skipped, certificates come in order.
func ExampleParse() {
	data := append(selfSigned("Leaf"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{0}})...)
	data = append(data, selfSigned("Issuing CA")...)
	certs, err := certfile.Parse(data)
	for _, c := range certs {
		fmt.Println(c.Subject.CommonName)
	}
	fmt.Println(err)
	// Output:
	// Leaf
	// Issuing CA
	// <nil>
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	broken := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	tests := []struct {
		name  string
		path  string
		want  int
		isErr error
	}{
		{"two", write("two.pem", append(selfSigned("a"), selfSigned("b")...)), 2, nil},
		{"none", write("none.pem", []byte("no PEM here")), 0, certfile.ErrNone},
		{"broken", write("broken.pem", broken), 0, nil},
		{"missing", filepath.Join(dir, "missing.pem"), 0, os.ErrNotExist},
	}
	for _, tc := range tests {
		certs, err := certfile.Read(tc.path)
		if tc.want > 0 {
			if err != nil || len(certs) != tc.want {
				t.Errorf("%s: %d certificates, %v", tc.name, len(certs), err)
			}
			continue
		}
		if err == nil || (tc.isErr != nil && !errors.Is(err, tc.isErr)) {
			t.Errorf("%s: %v, want an error %v", tc.name, err, tc.isErr)
		}
	}
}

// Package certfile reads X.509 certificates from PEM files (RFC 7468): a
// holder's chain (leaf first), a bundle of trust anchors, an external
// CA's root. Blocks of other types are skipped; a file without a
// certificate is an error.
package certfile

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ErrNone is a file or text without a CERTIFICATE block.
var ErrNone = errors.New("certfile: no certificate")

// Read returns the certificates of the PEM file at path, in file order.
func Read(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// Parse returns the certificates of the CERTIFICATE blocks in data, in
// order.
func Parse(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNone
	}
	return out, nil
}

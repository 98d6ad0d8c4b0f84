package validation

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrNoRoot is a set of CA certificates without a self-signed root.
var ErrNoRoot = errors.New("validation: no self-signed root among the CA certificates")

// NewOffline returns a validator for use without a server: of the CA
// certificates given, each self-signed one is an anchor and the others
// are intermediates. It has no status source, so revocation status comes
// only from OCSP responses the signature carries (B-LT): a B-B or B-T
// signature is INDETERMINATE TRY_LATER offline.
func NewOffline(certs []*x509.Certificate, pol *Policy) (*Validator, error) {
	var roots, inter []*x509.Certificate
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			roots = append(roots, c)
		} else {
			inter = append(inter, c)
		}
	}
	if len(roots) == 0 {
		return nil, ErrNoRoot
	}
	v := &Validator{Policy: pol}
	for i, r := range roots {
		v.Anchors = append(v.Anchors, Anchor{Name: fmt.Sprintf("trust-%d: %s", i+1, r.Subject.CommonName), Root: r, Intermediates: inter})
	}
	return v, nil
}

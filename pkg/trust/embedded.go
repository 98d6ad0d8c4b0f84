package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ErrNoEmbeddedStatus: none of the OCSP responses (or CRLs) a signature
// carries answers for the certificate.
var ErrNoEmbeddedStatus = errors.New("trust: no usable embedded OCSP response or CRL")

// EmbeddedOCSP is the status the OCSP responses carried in a signature
// give (CAdES B-LT, RFC 5940): the first response that verifies for the
// certificate (signed by its issuer or the issuer's delegated responder),
// says good or revoked, and was produced no earlier than five minutes
// before NotBefore (the best signature time).
type EmbeddedOCSP struct {
	Responses [][]byte // DER OCSPResponse
	NotBefore time.Time
}

// Status implements StatusSource.
func (e EmbeddedOCSP) Status(_ context.Context, cert, issuer *x509.Certificate) (Status, error) {
	for _, der := range e.Responses {
		r, err := ocsp.ParseResponseForCert(der, cert, issuer)
		if err != nil || r.ThisUpdate.Before(e.NotBefore.Add(-5*time.Minute)) || r.Status != ocsp.Good && r.Status != ocsp.Revoked {
			continue
		}
		return FromOCSP(r, SourceEmbeddedOCSP), nil
	}
	return Status{State: Unavailable}, ErrNoEmbeddedStatus
}

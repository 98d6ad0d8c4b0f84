package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"time"
)

// State is what is known of a certificate's status. A certificate is
// good, suspended, revoked or unknown to its authority; Unavailable says
// that nothing could be learnt (the source erred, or the anchor has none).
type State string

// The states.
const (
	Good      State = "good"
	Suspended State = "suspended" // on hold (RFC 5280 certificateHold): revoked until resumed
	Revoked   State = "revoked"
	Unknown   State = "unknown" // the authority does not know the certificate
	// Unavailable is never reported by a source: Chain.Status gives it,
	// with the error, when the status cannot be learnt now.
	Unavailable State = "unavailable"
)

// states lists every state, in the table's order.
var states = []State{Good, Suspended, Revoked, Unknown, Unavailable}

// Reason is an RFC 5280 §5.3.1 CRLReason code.
type Reason int

// The reasons this package gives meaning to; the others pass through.
const (
	ReasonUnspecified     Reason = 0
	ReasonCertificateHold Reason = 6
	// NoReason is not a CRLReason: a Rule that keeps the status's own.
	NoReason Reason = -1
)

// Source says where a status came from.
type Source string

// The sources.
const (
	SourceRecords      Source = "ca-records"    // our own CA's records, read directly
	SourceOCSP         Source = "ocsp"          // an OCSP responder asked now (or its cached answer)
	SourceCRL          Source = "crl"           // a CRL
	SourceEmbeddedOCSP Source = "embedded-ocsp" // an OCSP response a signature carries (CAdES B-LT)
	SourceEmbeddedCRL  Source = "embedded-crl"  // a CRL a signature carries (CAdES B-LT)
)

// Status is what a source says of a certificate.
type Status struct {
	State  State
	Reason Reason    // when Revoked or Suspended
	Time   time.Time // when Revoked or Suspended: the revocation or suspension time
	Source Source
}

// StatusSource answers for the certificates of one anchor, asked only
// after a certificate's chain to that anchor was validated (so a source may
// fetch what the certificate names). issuer is the certificate's issuer
// on that chain. An error means the status cannot be learnt now.
type StatusSource interface {
	Status(ctx context.Context, cert, issuer *x509.Certificate) (Status, error)
}

// ErrNoSource is returned by Chain.Status for an anchor without a status
// source.
var ErrNoSource = errors.New("no status source")

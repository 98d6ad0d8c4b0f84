package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/yagona/yagona/pkg/ident"
)

// Purpose is what a certificate is checked for. Its rules are data, in
// purposes: the key usage bits the leaf needs (any one of them), the
// extended key usages the chain must allow (crypto/x509's
// VerifyOptions.KeyUsages), whether the leaf must list them itself, and an
// optional rule on the leaf.
type Purpose int

// The purposes.
const (
	// Login: a person logs in with an authentication certificate.
	Login Purpose = iota + 1
	// DocumentSignature: a person signs a document. Either
	// digitalSignature or nonRepudiation is accepted for now.
	DocumentSignature
	// Seal: an organization seals a document (EN 319 412-3: the subject
	// names the organization).
	Seal
	// Timestamp: a time-stamping authority's certificate (RFC 3161 §2.3).
	Timestamp
	// OCSPSigning: a delegated OCSP responder's certificate (RFC 6960
	// §4.2.2.2).
	OCSPSigning
	// TLSClient: a service's or a holder's TLS client certificate.
	TLSClient
)

// purposeRule is one purpose's rules.
type purposeRule struct {
	name     string
	keyUsage x509.KeyUsage      // the leaf needs one of these bits; 0: not checked
	eku      []x509.ExtKeyUsage // the chain must allow one of these
	listed   bool               // the leaf must list one of eku itself
	only     bool               // the leaf must list exactly one extended key usage, eku[0]
	rule     func(leaf *x509.Certificate) error
}

var purposes = map[Purpose]purposeRule{
	Login: {name: "login", keyUsage: x509.KeyUsageDigitalSignature,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, listed: true},
	DocumentSignature: {name: "document signature", keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}},
	Seal: {name: "seal", keyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, rule: namesOrganization},
	// RFC 3161 §2.3 asks nothing of the key usage bits.
	Timestamp: {name: "time-stamping", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, listed: true, only: true},
	OCSPSigning: {name: "OCSP signing", keyUsage: x509.KeyUsageDigitalSignature,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, listed: true},
	TLSClient: {name: "TLS client authentication", keyUsage: x509.KeyUsageDigitalSignature,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, listed: true},
}

func (p Purpose) rules() purposeRule {
	if r, ok := purposes[p]; ok {
		return r
	}
	// No purpose: nothing passes (no EKU matches an empty list).
	return purposeRule{name: fmt.Sprintf("purpose %d", int(p)), rule: func(*x509.Certificate) error { return errors.New("no such purpose") }}
}

func (p Purpose) String() string { return p.rules().name }

// KeyUsage is the key usage bits the leaf needs, any one of them; zero
// when the purpose asks none.
func (p Purpose) KeyUsage() x509.KeyUsage { return p.rules().keyUsage }

// ExtKeyUsages is what the chain is verified with
// (x509.VerifyOptions.KeyUsages).
func (p Purpose) ExtKeyUsages() []x509.ExtKeyUsage { return slices.Clone(p.rules().eku) }

// The checks a PurposeError names.
const (
	CheckKeyUsage    = "key usage"
	CheckExtKeyUsage = "extended key usage"
	CheckRule        = "rule"
)

// PurposeError says why a certificate is not for a purpose.
type PurposeError struct {
	Purpose Purpose
	Check   string // CheckKeyUsage, CheckExtKeyUsage or CheckRule
	Err     error  // the rule's error, for CheckRule
}

func (e *PurposeError) Error() string {
	msg := fmt.Sprintf("trust: the certificate is not for %s: %s", e.Purpose, e.Check)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *PurposeError) Unwrap() error { return e.Err }

// Check checks the leaf's own fields for p: key usage bits, listed
// extended key usages and the purpose's rule. The chain's allowance of the
// extended key usage is Verify's.
func (p Purpose) Check(leaf *x509.Certificate) error {
	r := p.rules()
	if r.keyUsage != 0 && leaf.KeyUsage&r.keyUsage == 0 {
		return &PurposeError{Purpose: p, Check: CheckKeyUsage}
	}
	listed := slices.ContainsFunc(r.eku, func(u x509.ExtKeyUsage) bool { return slices.Contains(leaf.ExtKeyUsage, u) })
	if r.listed && !listed || r.only && (len(leaf.ExtKeyUsage) != 1 || len(leaf.UnknownExtKeyUsage) != 0) {
		return &PurposeError{Purpose: p, Check: CheckExtKeyUsage}
	}
	if r.rule != nil {
		if err := r.rule(leaf); err != nil {
			return &PurposeError{Purpose: p, Check: CheckRule, Err: err}
		}
	}
	return nil
}

// namesOrganization: a seal's subject names the organization by its TIN
// (organizationIdentifier NTRUZ-, EN 319 412-1).
func namesOrganization(leaf *x509.Certificate) error {
	if ident.FromCertificate(leaf).TIN == "" {
		return errors.New("the subject names no organization (organizationIdentifier)")
	}
	return nil
}

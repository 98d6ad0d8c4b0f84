package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/revocation"
)

// Levels of assurance, lowest first. acr carries one of them.
const (
	ACRLow         = "low"
	ACRSubstantial = "substantial"
	ACRHigh        = "high"
)

func acrRank(a string) int {
	switch a {
	case ACRLow:
		return 1
	case ACRSubstantial:
		return 2
	case ACRHigh:
		return 3
	}
	return 0
}

func minACR(a, b string) string {
	if acrRank(a) <= acrRank(b) {
		return a
	}
	return b
}

// Login methods, for the method cap on the level of assurance.
const (
	MethodCMS       = "cms"       // a CMS signature over the challenge
	MethodTLS       = "tls"       // a TLS client certificate on our listener
	MethodForwarded = "forwarded" // a client certificate a trusted proxy forwarded
)

// Certificate statuses a StatusSource reports.
const (
	StatusGood    = "good"
	StatusRevoked = "revoked"
	StatusHold    = "hold"
	StatusUnknown = "unknown"
)

// StatusSource reports the status of a certificate whose chain has
// already been validated to the anchor it is configured for.
type StatusSource interface {
	CertificateStatus(ctx context.Context, cert, issuer *x509.Certificate) (string, error)
}

// TrustAnchor is a CA whose certificates may log in.
type TrustAnchor struct {
	Name          string
	Root          *x509.Certificate
	Intermediates []*x509.Certificate
	// Status answers for this anchor's certificates: our own CA's records
	// read directly, or cached OCSP/CRL for an external CA. Nil refuses
	// every certificate of the anchor unless FailOpen (fail closed).
	Status StatusSource
	// FailOpen accepts a certificate whose status cannot be learnt (the
	// source errs). Off by default; meant for an external CA whose
	// responder is known to be unreliable, never for our own.
	FailOpen bool
}

// LoginPolicy maps a certificate policy OID to what a login with it is
// worth.
type LoginPolicy struct {
	ACR string   // low, substantial or high
	AMR []string // RFC 8176 values; default ["pop", "swk"]
}

// CertChecker decides whether a certificate may log a person in.
//
// Each anchor's configured intermediates are verified against its root
// once, on first use; a leaf is then verified against them directly, with
// their and the root's validity checked at the login time. This saves the
// root's signature check (ECDSA P-384, ten times a P-256 verification) on
// every login. Intermediates a client sends are untrusted and take the
// full path to the root.
type CertChecker struct {
	Anchors []TrustAnchor
	// Policies by policy OID (dotted). A certificate logs in only if one of
	// its policies is here.
	Policies map[string]LoginPolicy
	// MethodCap caps the level per login method; a method absent here is
	// not capped.
	MethodCap map[string]string

	once  sync.Once
	pools []*x509.CertPool // per anchor: intermediates verified against its root
}

func (c *CertChecker) verifiedPools() []*x509.CertPool {
	c.once.Do(func() {
		c.pools = make([]*x509.CertPool, len(c.Anchors))
		for i, a := range c.Anchors {
			pool := x509.NewCertPool()
			for _, ic := range a.Intermediates {
				if ic.IsCA && ic.CheckSignatureFrom(a.Root) == nil {
					pool.AddCert(ic)
				}
			}
			c.pools[i] = pool
		}
	})
	return c.pools
}

// fastChain verifies leaf against anchor i's pre-verified intermediates
// and returns the chain up to the root, or nil.
func (c *CertChecker) fastChain(i int, leaf *x509.Certificate, now time.Time) []*x509.Certificate {
	a := &c.Anchors[i]
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: c.verifiedPools()[i], CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil || len(chains[0]) != 2 {
		return nil
	}
	inter := chains[0][1]
	for _, x := range []*x509.Certificate{inter, a.Root} {
		if now.Before(x.NotBefore) || now.After(x.NotAfter) {
			return nil
		}
	}
	return []*x509.Certificate{leaf, inter, a.Root}
}

// certError is a refusal, with the page message key and a reason safe to
// show.
type certError struct {
	Key    string // web message key
	Reason string
	Cause  error
}

func (e *certError) Error() string {
	if e.Cause != nil {
		return e.Reason + ": " + e.Cause.Error()
	}
	return e.Reason
}
func (e *certError) Unwrap() error { return e.Cause }

func refuse(key, reason string, cause error) error {
	return &certError{Key: key, Reason: reason, Cause: cause}
}

// Authenticated is a person proven by a certificate.
type Authenticated struct {
	Identity   ident.Identity
	Serial     string // hex
	Issuer     string // anchor name
	ACR        string
	AMR        []string
	Thumbprint []byte // SHA-256 of the certificate DER
}

// Check validates leaf for a login by method at now: key usage, chain to
// an anchor (nothing is fetched before this holds), validity, status,
// policy. extra are untrusted intermediates the client sent.
func (c *CertChecker) Check(ctx context.Context, leaf *x509.Certificate, extra []*x509.Certificate, method string, now time.Time) (*Authenticated, error) {
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, refuse("error.login_failed", "the certificate's key usage does not allow digital signatures", nil)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return nil, refuse("error.login_failed", "the certificate is not for client authentication", nil)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, refuse("error.certificate_expired", "the certificate is outside its validity period", nil)
	}
	anchor, err := c.verifyChain(ctx, leaf, extra, now)
	if err != nil {
		return nil, err
	}
	var pol *LoginPolicy
	for _, o := range leaf.Policies {
		if lp, ok := c.Policies[o.String()]; ok {
			pol = &lp
			break
		}
	}
	if pol == nil {
		for _, o := range leaf.PolicyIdentifiers {
			if lp, ok := c.Policies[o.String()]; ok {
				pol = &lp
				break
			}
		}
	}
	if pol == nil || acrRank(pol.ACR) == 0 {
		return nil, refuse("error.login_failed", "the certificate's policy does not allow login", nil)
	}
	id := ident.FromCertificate(leaf)
	if id.PINFL == "" {
		return nil, refuse("error.login_failed", "the certificate names no person (PINFL)", nil)
	}
	acr := pol.ACR
	if cp, ok := c.MethodCap[method]; ok {
		acr = minACR(acr, cp)
	}
	amr := pol.AMR
	if len(amr) == 0 {
		amr = []string{"pop", "swk"}
	}
	return &Authenticated{Identity: id, Serial: leaf.SerialNumber.Text(16), Issuer: anchor.Name, ACR: acr,
		AMR: slices.Clone(amr), Thumbprint: thumbprint(leaf)}, nil
}

// CheckService validates a relying party's TLS client certificate
// (tls_client_auth): key usage, chain to an anchor, validity and status;
// no login policy and no person.
func (c *CertChecker) CheckService(ctx context.Context, leaf *x509.Certificate, extra []*x509.Certificate, now time.Time) error {
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 || !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return refuse("error.login_failed", "the certificate is not for client authentication", nil)
	}
	_, err := c.verifyChain(ctx, leaf, extra, now)
	return err
}

// verifyChain finds the anchor leaf chains to at now (nothing is fetched
// before this holds), then asks the anchor's status source.
func (c *CertChecker) verifyChain(ctx context.Context, leaf *x509.Certificate, extra []*x509.Certificate, now time.Time) (*TrustAnchor, error) {
	var (
		anchor  *TrustAnchor
		chain   []*x509.Certificate
		lastErr error
	)
	for i := range c.Anchors {
		if ch := c.fastChain(i, leaf, now); ch != nil {
			anchor, chain = &c.Anchors[i], ch
			break
		}
	}
	for i := range c.Anchors {
		if anchor != nil {
			break
		}
		a := &c.Anchors[i]
		roots := x509.NewCertPool()
		roots.AddCert(a.Root)
		inter := x509.NewCertPool()
		for _, ic := range a.Intermediates {
			inter.AddCert(ic)
		}
		for _, ic := range extra {
			inter.AddCert(ic)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			lastErr = err
			continue
		}
		anchor, chain = a, chains[0]
		break
	}
	if anchor == nil {
		var inv x509.CertificateInvalidError
		if errors.As(lastErr, &inv) && inv.Reason == x509.Expired {
			return nil, refuse("error.certificate_expired", "a certificate in the chain is expired", lastErr)
		}
		return nil, refuse("error.certificate_untrusted", "the certificate does not chain to a trusted authority", lastErr)
	}
	if len(chain) < 2 {
		return nil, refuse("error.certificate_untrusted", "a CA certificate cannot log in", nil)
	}
	if anchor.Status == nil {
		if !anchor.FailOpen {
			return nil, refuse("error.certificate_untrusted", "no status source for the certificate's authority", nil)
		}
		return anchor, nil
	}
	st, err := anchor.Status.CertificateStatus(ctx, leaf, chain[1])
	switch {
	case err != nil && !anchor.FailOpen:
		return nil, refuse("error.login_failed", "the certificate's status cannot be checked now", err)
	case err != nil:
	case st == StatusRevoked:
		return nil, refuse("error.certificate_revoked", "the certificate is revoked", nil)
	case st == StatusHold:
		return nil, refuse("error.certificate_revoked", "the certificate is suspended", nil)
	case st != StatusGood:
		return nil, refuse("error.certificate_untrusted", "the certificate is unknown to its authority", nil)
	}
	return anchor, nil
}

// OwnStatus reads our own CA's records: the function returns the status
// (StatusGood, StatusRevoked, StatusHold or StatusUnknown) of a serial.
type OwnStatus func(ctx context.Context, serial *big.Int) (string, error)

// CertificateStatus implements StatusSource.
func (f OwnStatus) CertificateStatus(ctx context.Context, cert, _ *x509.Certificate) (string, error) {
	st, err := f(ctx, cert.SerialNumber)
	if err != nil {
		return "", fmt.Errorf("certificate status: %w", err)
	}
	return st, nil
}

// OCSPStatus answers for an external CA's certificates from their OCSP
// responder (pkg/revocation), asked only after the chain is validated.
type OCSPStatus struct{ OCSP *revocation.OCSP }

// CertificateStatus implements StatusSource.
func (s OCSPStatus) CertificateStatus(ctx context.Context, cert, issuer *x509.Certificate) (string, error) {
	st, err := s.OCSP.Status(ctx, cert, issuer)
	if err != nil {
		return "", err
	}
	switch st {
	case revocation.Good:
		return StatusGood, nil
	case revocation.Revoked:
		return StatusRevoked, nil
	}
	return StatusUnknown, nil
}

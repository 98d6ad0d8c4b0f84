package idp

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/trust"
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

// LoginPolicy maps a certificate policy OID to what a login with it is
// worth.
type LoginPolicy struct {
	ACR string   // low, substantial or high
	AMR []string // RFC 8176 values; default ["pop", "swk"]
}

// CertChecker decides whether a certificate may log a person in, asking
// the trust component (pkg/trust) for the chain (trust.Login, or
// trust.TLSClient for a service), the status and what the status means
// for a login; the login policies, the level of assurance and the method
// cap are its own.
type CertChecker struct {
	// Trust holds the anchors whose certificates may log in, with their
	// status sources and fail-open flags. Nil trusts nothing.
	Trust *trust.Verifier
	// Policies by policy OID (dotted). A certificate logs in only if one of
	// its policies is here.
	Policies map[string]LoginPolicy
	// MethodCap caps the level per login method; a method absent here is
	// not capped.
	MethodCap map[string]string
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
	if err := trust.Login.Check(leaf); err != nil {
		var pe *trust.PurposeError
		if errors.As(err, &pe) && pe.Check == trust.CheckKeyUsage {
			return nil, refuse("error.login_failed", "the certificate's key usage does not allow digital signatures", nil)
		}
		return nil, refuse("error.login_failed", "the certificate is not for client authentication", nil)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, refuse("error.certificate_expired", "the certificate is outside its validity period", nil)
	}
	anchor, err := c.verifyChain(ctx, leaf, extra, trust.Login, now)
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
	if trust.TLSClient.Check(leaf) != nil {
		return refuse("error.login_failed", "the certificate is not for client authentication", nil)
	}
	_, err := c.verifyChain(ctx, leaf, extra, trust.TLSClient, now)
	return err
}

// verifyChain finds the anchor leaf chains to at now for p (nothing is
// fetched before this holds), then asks the anchor's status and the trust
// table what it means for a login.
func (c *CertChecker) verifyChain(ctx context.Context, leaf *x509.Certificate, extra []*x509.Certificate, p trust.Purpose, now time.Time) (*trust.Anchor, error) {
	ch, err := c.Trust.Verify(leaf, extra, p, now)
	if err != nil {
		var inv x509.CertificateInvalidError
		switch {
		case errors.Is(err, trust.ErrAnchorLeaf):
			return nil, refuse("error.certificate_untrusted", "a CA certificate cannot log in", nil)
		case errors.As(err, &inv) && inv.Reason == x509.Expired:
			return nil, refuse("error.certificate_expired", "a certificate in the chain is expired", err)
		}
		return nil, refuse("error.certificate_untrusted", "the certificate does not chain to a trusted authority", err)
	}
	st, err := ch.Status(ctx)
	rule := trust.RuleFor(trust.UseLogin, st.State)
	if rule.Decide(st, time.Time{}, ch.Anchor.FailOpen) == trust.Pass {
		return ch.Anchor, nil
	}
	switch {
	case errors.Is(err, trust.ErrNoSource):
		return nil, refuse("error.certificate_untrusted", "no status source for the certificate's authority", nil)
	case err != nil:
		return nil, refuse("error.login_failed", "the certificate's status cannot be checked now", err)
	case st.State == trust.Revoked || st.State == trust.Suspended:
		return nil, refuse("error.certificate_revoked", "the certificate is "+rule.Word, nil)
	}
	return nil, refuse("error.certificate_untrusted", "the certificate is unknown to its authority", nil)
}

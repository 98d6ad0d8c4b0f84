package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Verifier builds chains from certificates to its anchors. It is safe for
// concurrent use and never changes after NewVerifier.
type Verifier struct {
	anchors []Anchor
	fast    []*x509.CertPool // per anchor: the intermediates that verified against its root
	roots   []*x509.CertPool // per anchor: its root
	inter   []*x509.CertPool // per anchor: all its intermediates
}

// Errors Verify returns (wrapped).
var (
	// ErrNoChain: the certificate chains to no anchor at the time asked.
	// The last crypto/x509 error is wrapped too (errors.As finds an
	// x509.CertificateInvalidError for an expired certificate).
	ErrNoChain = errors.New("trust: the certificate does not chain to a trusted anchor")
	// ErrAnchorLeaf: the certificate is an anchor's root itself.
	ErrAnchorLeaf = errors.New("trust: the certificate is a trust anchor, not a leaf")
	// ErrNoTime: Verify was asked without a time.
	ErrNoTime = errors.New("trust: no verification time")
)

// NewVerifier checks every anchor (Anchor.Check) and pre-verifies its
// intermediates against its root.
func NewVerifier(anchors ...Anchor) (*Verifier, error) {
	v := &Verifier{anchors: anchors}
	for _, a := range anchors {
		if err := a.Check(); err != nil {
			return nil, err
		}
		fast, roots, inter := x509.NewCertPool(), x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(a.Root)
		for _, ic := range a.Intermediates {
			inter.AddCert(ic)
			if ic.CheckSignatureFrom(a.Root) == nil {
				fast.AddCert(ic)
			}
		}
		v.fast, v.roots, v.inter = append(v.fast, fast), append(v.roots, roots), append(v.inter, inter)
	}
	return v, nil
}

// Anchors returns the verifier's anchors.
func (v *Verifier) Anchors() []Anchor { return v.anchors }

// Chain is a verified path from a leaf to an anchor.
type Chain struct {
	Anchor *Anchor
	Certs  []*x509.Certificate // the leaf first, the anchor's root last; at least two
}

// Leaf is the certificate verified.
func (c Chain) Leaf() *x509.Certificate { return c.Certs[0] }

// Issuer is the leaf's issuer on the chain.
func (c Chain) Issuer() *x509.Certificate { return c.Certs[1] }

// Verify finds a chain from leaf to an anchor, valid at the time at, whose
// issuers allow p's extended key usages, and checks the leaf for p. extra
// are untrusted intermediates (sent by a client, carried in a signature).
//
// The pre-verified intermediates are tried first; then the full path to
// each anchor's root, through its intermediates and extra. The chain is
// built before the leaf is checked for p: when the chain holds but the
// leaf is not for p, Verify returns the chain and a *PurposeError, so that
// a report can show both. Otherwise an error wraps ErrNoChain,
// ErrAnchorLeaf or ErrNoTime. A nil Verifier trusts nothing.
func (v *Verifier) Verify(leaf *x509.Certificate, extra []*x509.Certificate, p Purpose, at time.Time) (Chain, error) {
	if at.IsZero() {
		return Chain{}, ErrNoTime
	}
	if v == nil {
		return Chain{}, ErrNoChain
	}
	ch, err := v.chain(leaf, extra, p.rules().eku, at)
	if err != nil {
		return Chain{}, err
	}
	return ch, p.Check(leaf)
}

func (v *Verifier) chain(leaf *x509.Certificate, extra []*x509.Certificate, eku []x509.ExtKeyUsage, at time.Time) (Chain, error) {
	for i := range v.anchors {
		if ch, ok := v.fastChain(i, leaf, eku, at); ok {
			return ch, nil
		}
	}
	var lastErr error
	for i := range v.anchors {
		inter := v.inter[i]
		if len(extra) > 0 {
			inter = inter.Clone()
			for _, c := range extra {
				inter.AddCert(c)
			}
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots[i], Intermediates: inter, CurrentTime: at, KeyUsages: eku})
		switch {
		case err != nil:
			lastErr = err
		case len(chains[0]) < 2:
			lastErr = ErrAnchorLeaf
		default:
			return Chain{Anchor: &v.anchors[i], Certs: chains[0]}, nil
		}
	}
	if errors.Is(lastErr, ErrAnchorLeaf) {
		return Chain{}, lastErr
	}
	if lastErr == nil {
		return Chain{}, ErrNoChain
	}
	return Chain{}, fmt.Errorf("%w: %w", ErrNoChain, lastErr)
}

// fastChain verifies leaf against anchor i's pre-verified intermediates,
// then checks their and the root's validity at at.
func (v *Verifier) fastChain(i int, leaf *x509.Certificate, eku []x509.ExtKeyUsage, at time.Time) (Chain, bool) {
	a := &v.anchors[i]
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.fast[i], CurrentTime: at, KeyUsages: eku})
	if err != nil || len(chains[0]) != 2 {
		return Chain{}, false
	}
	inter := chains[0][1]
	for _, c := range []*x509.Certificate{inter, a.Root} {
		if at.Before(c.NotBefore) || at.After(c.NotAfter) {
			return Chain{}, false
		}
	}
	return Chain{Anchor: a, Certs: []*x509.Certificate{leaf, inter, a.Root}}, true
}

// Status asks the chain's anchor for the leaf's status. When it cannot be
// learnt (the source errs, or the anchor has none: ErrNoSource), the state
// is Unavailable and the error says why.
func (c Chain) Status(ctx context.Context) (Status, error) {
	if c.Anchor.Status == nil {
		return Status{State: Unavailable}, fmt.Errorf("%w for %s", ErrNoSource, c.Anchor.Name)
	}
	st, err := c.Anchor.Status.Status(ctx, c.Leaf(), c.Issuer())
	if err != nil {
		return Status{State: Unavailable}, err
	}
	return st, nil
}

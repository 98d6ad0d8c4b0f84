package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/yagona/yagona/pkg/certfile"
)

// Anchor is a trusted certificate authority: its root, the intermediates
// known to chain to it, where the status of its certificates comes from
// and whether a login may go on without it.
type Anchor struct {
	Name          string
	Root          *x509.Certificate
	Intermediates []*x509.Certificate
	// Status answers for the anchor's certificates; nil means their
	// status cannot be learnt (Unavailable).
	Status StatusSource
	// FailOpen lets a login go on when the status cannot be learnt (see
	// the status table). Meant for an external CA whose responder is known
	// to be unreliable, never for our own.
	FailOpen bool
}

// ErrAnchor is wrapped by every error Check and LoadAnchor return.
var ErrAnchor = errors.New("trust: bad anchor")

// Check is the one set of checks an anchor passes before it is trusted:
// a name; a root that is a self-signed CA certificate; intermediates that
// are CA certificates and chain to the root, directly or through one
// another (by signature: their validity is checked at each verification).
func (a Anchor) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrAnchor, a.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case a.Name == "":
		return fmt.Errorf("%w: no name", ErrAnchor)
	case a.Root == nil:
		return bad("no root certificate")
	case !isCA(a.Root):
		return bad("root %q is not a CA certificate", a.Root.Subject)
	case !selfSigned(a.Root):
		return bad("root %q is not self-signed", a.Root.Subject)
	}
	for _, ic := range a.Intermediates {
		if !isCA(ic) {
			return bad("intermediate %q is not a CA certificate", ic.Subject)
		}
	}
	for _, ic := range a.Intermediates {
		if !chainsTo(ic, a.Root, a.Intermediates) {
			return bad("intermediate %q does not chain to the root %q", ic.Subject, a.Root.Subject)
		}
	}
	return nil
}

// LoadAnchor reads an anchor's root (a PEM file holding exactly one
// certificate) and intermediates (PEM files, one or more certificates
// each) and checks it. Status and FailOpen are the caller's to set.
func LoadAnchor(name, rootFile string, intermediateFiles ...string) (Anchor, error) {
	a := Anchor{Name: name}
	roots, err := certfile.Read(rootFile)
	if err != nil {
		return a, fmt.Errorf("%w %q: root: %w", ErrAnchor, name, err)
	}
	if len(roots) != 1 {
		return a, fmt.Errorf("%w %q: root: %s holds %d certificates, want one", ErrAnchor, name, rootFile, len(roots))
	}
	a.Root = roots[0]
	for _, f := range intermediateFiles {
		cs, err := certfile.Read(f)
		if err != nil {
			return a, fmt.Errorf("%w %q: intermediates: %w", ErrAnchor, name, err)
		}
		a.Intermediates = append(a.Intermediates, cs...)
	}
	return a, a.Check()
}

// ErrNoRoot is returned by AnchorsFrom for certificates without a
// self-signed CA certificate among them.
var ErrNoRoot = errors.New("trust: no self-signed root certificate")

// AnchorsFrom makes one anchor per self-signed CA certificate of certs
// (a bundle, say a PEM file of roots and intermediates), each with the
// other CA certificates that chain to it; certificates that chain to no
// root are left out. name names the anchor of the i-th root. Every anchor
// is checked.
func AnchorsFrom(certs []*x509.Certificate, name func(i int, root *x509.Certificate) string) ([]Anchor, error) {
	var roots, cas []*x509.Certificate
	for _, c := range certs {
		switch {
		case isCA(c) && selfSigned(c):
			roots = append(roots, c)
		case isCA(c):
			cas = append(cas, c)
		}
	}
	if len(roots) == 0 {
		return nil, ErrNoRoot
	}
	out := make([]Anchor, 0, len(roots))
	for i, r := range roots {
		a := Anchor{Name: name(i, r), Root: r}
		for _, c := range cas {
			if chainsTo(c, r, cas) {
				a.Intermediates = append(a.Intermediates, c)
			}
		}
		if err := a.Check(); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// VerifierFrom is NewVerifier over AnchorsFrom(certs, name): a bundle of
// roots and intermediates, as a trust file or a configuration holds it.
func VerifierFrom(certs []*x509.Certificate, name func(i int, root *x509.Certificate) string) (*Verifier, error) {
	anchors, err := AnchorsFrom(certs, name)
	if err != nil {
		return nil, err
	}
	return NewVerifier(anchors...)
}

func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }

// selfSigned reports whether c names itself as issuer and its signature
// verifies with its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// chainsTo reports whether c is signed by root, or by one of others that
// chains to root (a cycle does not count).
func chainsTo(c, root *x509.Certificate, others []*x509.Certificate) bool {
	seen := map[*x509.Certificate]bool{}
	var walk func(c *x509.Certificate) bool
	walk = func(c *x509.Certificate) bool {
		if c.CheckSignatureFrom(root) == nil {
			return true
		}
		seen[c] = true
		for _, o := range others {
			if !seen[o] && bytes.Equal(c.RawIssuer, o.RawSubject) && c.CheckSignatureFrom(o) == nil && walk(o) {
				return true
			}
		}
		return false
	}
	return walk(c)
}

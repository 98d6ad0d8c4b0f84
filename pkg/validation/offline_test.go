package validation

import (
	"crypto/x509"
	"errors"
	"testing"
)

// TestNewOffline: self-signed certificates become anchors, the others
// intermediates of each; without a root there is nothing to trust.
func TestNewOffline(t *testing.T) {
	a, b := newCA(t, "A"), newCA(t, "B")
	pol := policy(t)
	v, err := NewOffline([]*x509.Certificate{a.issuing, a.root, b.root}, pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Anchors) != 2 || !v.Anchors[0].Root.Equal(a.root) || !v.Anchors[1].Root.Equal(b.root) ||
		len(v.Anchors[0].Intermediates) != 1 || !v.Anchors[0].Intermediates[0].Equal(a.issuing) || v.Anchors[0].Status != nil {
		t.Fatalf("anchors: %+v", v.Anchors)
	}
	if _, err := NewOffline([]*x509.Certificate{a.issuing}, pol); !errors.Is(err, ErrNoRoot) {
		t.Fatalf("no root: %v", err)
	}
}

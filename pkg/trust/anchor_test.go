package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadAnchor: the one set of checks an anchor's files pass, each
// refusal naming the anchor.
func TestLoadAnchor(t *testing.T) {
	dir := t.TempDir()
	p := newPKI(t, "External")
	other := newPKI(t, "Other")
	// A second level: root -> policy CA -> issuing CA.
	polKey := newKey(t)
	pol := create(t, caTemplate("External Policy"), p.root, polKey.Public(), p.rootKey)
	issKey := newKey(t)
	iss := create(t, caTemplate("External Issuing 2"), pol, issKey.Public(), polKey)
	notCA := p.leaf(t).c
	files := map[string]string{
		"root":         writePEM(t, dir, "root.pem", p.root),
		"two roots":    writePEM(t, dir, "two.pem", p.root, other.root),
		"inter":        writePEM(t, dir, "inter.pem", p.inter),
		"levels":       writePEM(t, dir, "levels.pem", iss, pol),
		"other inter":  writePEM(t, dir, "other-inter.pem", other.inter),
		"leaf":         writePEM(t, dir, "leaf.pem", notCA),
		"intermediate": writePEM(t, dir, "intermediate-as-root.pem", p.inter),
		"empty":        filepath.Join(dir, "empty.pem"),
	}
	if err := os.WriteFile(files["empty"], []byte("no PEM here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		root  string
		inter []string
		want  string // "" loads; else a part of the error
	}{
		{"root and intermediate", files["root"], []string{files["inter"]}, ""},
		{"root alone", files["root"], nil, ""},
		{"two levels, out of order", files["root"], []string{files["levels"], files["inter"]}, ""},
		{"two certificates as root", files["two roots"], nil, "holds 2 certificates, want one"},
		{"root not a CA", files["leaf"], nil, "is not a CA certificate"},
		{"root not self-signed", files["intermediate"], nil, "is not self-signed"},
		{"intermediate not a CA", files["root"], []string{files["leaf"]}, "is not a CA certificate"},
		{"intermediate of another root", files["root"], []string{files["other inter"]}, "does not chain to the root"},
		{"root file missing", filepath.Join(dir, "missing.pem"), nil, "no such file"},
		{"root file without a certificate", files["empty"], nil, "no certificate"},
		{"intermediate file without a certificate", files["root"], []string{files["empty"]}, "no certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := LoadAnchor("ext-ca", tc.root, tc.inter...)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := NewVerifier(a); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrAnchor) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"ext-ca"`) {
				t.Fatalf("LoadAnchor = %v; want an ErrAnchor naming ext-ca and saying %q", err, tc.want)
			}
		})
	}
	// A leaf under the second level verifies through the anchor.
	a, err := LoadAnchor("ext-ca", files["root"], files["levels"])
	if err != nil {
		t.Fatal(err)
	}
	leaf := create(t, &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		iss, newKey(t).Public(), issKey)
	if ch, err := mustVerifier(t, a).Verify(leaf, nil, Login, t0); err != nil || len(ch.Certs) != 4 {
		t.Fatalf("two levels: %v %d", err, len(ch.Certs))
	}
}

func TestNewVerifierChecksAnchors(t *testing.T) {
	p := newPKI(t, "Yagona")
	for name, a := range map[string]Anchor{
		"no name":            {Root: p.root},
		"no root":            {Name: "x"},
		"intermediate stray": {Name: "x", Root: p.root, Intermediates: []*x509.Certificate{newPKI(t, "Other").inter}},
	} {
		if _, err := NewVerifier(a); !errors.Is(err, ErrAnchor) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAnchorsFrom(t *testing.T) {
	p, q := newPKI(t, "One"), newPKI(t, "Two")
	name := func(i int, r *x509.Certificate) string { return fmt.Sprintf("trust-%d: %s", i+1, r.Subject.CommonName) }
	anchors, err := AnchorsFrom([]*x509.Certificate{q.inter, p.root, p.inter, p.leaf(t).c, q.root}, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(anchors) != 2 || anchors[0].Name != "trust-1: One Root" || len(anchors[0].Intermediates) != 1 || !anchors[0].Intermediates[0].Equal(p.inter) ||
		anchors[1].Name != "trust-2: Two Root" || len(anchors[1].Intermediates) != 1 || !anchors[1].Intermediates[0].Equal(q.inter) {
		t.Fatalf("anchors %+v", anchors)
	}
	if _, err := AnchorsFrom([]*x509.Certificate{p.inter}, name); !errors.Is(err, ErrNoRoot) {
		t.Fatalf("no root: %v", err)
	}
}

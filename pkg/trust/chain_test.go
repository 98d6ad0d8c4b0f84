package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func TestVerifyFastPath(t *testing.T) {
	p := newPKI(t, "Yagona")
	v := mustVerifier(t, newPKI(t, "Other").anchor("other"), p.anchor("yagona"))
	leaf := p.leaf(t)
	ch, err := v.Verify(leaf.c, nil, Login, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Anchor.Name != "yagona" || len(ch.Certs) != 3 || ch.Leaf() != leaf.c || !ch.Issuer().Equal(p.inter) || !ch.Certs[2].Equal(p.root) {
		t.Fatalf("chain %+v", ch)
	}
}

// TestVerifyRefusals: every check on the verification path fails when it
// should.
func TestVerifyRefusals(t *testing.T) {
	p := newPKI(t, "Yagona")
	other := newPKI(t, "Other")
	// An intermediate the anchor does not list, sent by the client.
	sideKey := newKey(t)
	side := create(t, caTemplate("Yagona Side"), p.root, sideKey.Public(), p.rootKey)
	sideLeaf := cert{c: create(t, &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, side, newKey(t).Public(), sideKey)}
	// An intermediate of another root, claiming to be ours.
	foreignKey := newKey(t)
	foreign := create(t, caTemplate("Yagona Issuing"), other.root, foreignKey.Public(), other.rootKey)
	foreignLeaf := create(t, &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, foreign, newKey(t).Public(), foreignKey)

	v := mustVerifier(t, p.anchor("yagona"))
	expiredInter := newPKI(t, "Old", validity(t0.Add(-48*time.Hour), t0.Add(-time.Hour)))
	expiredRoot := func() *pki {
		q := &pki{rootKey: newKey(t), interKey: newKey(t)}
		rt := caTemplate("Expired Root")
		rt.NotBefore, rt.NotAfter = t0.Add(-48*time.Hour), t0.Add(-time.Hour)
		q.root = create(t, rt, rt, q.rootKey.Public(), q.rootKey)
		q.inter = create(t, caTemplate("Expired Root Issuing"), q.root, q.interKey.Public(), q.rootKey)
		return q
	}()
	tests := []struct {
		name    string
		v       *Verifier
		leaf    *x509.Certificate
		extra   []*x509.Certificate
		purpose Purpose
		at      time.Time
		wantErr error
		expired bool // the error names an expired certificate
	}{
		{"wrong anchor", v, other.leaf(t).c, nil, Login, t0, ErrNoChain, false},
		{"untrusted extra intermediate of another root", v, foreignLeaf, []*x509.Certificate{foreign}, Login, t0, ErrNoChain, false},
		{"unlisted intermediate not sent", v, sideLeaf.c, nil, Login, t0, ErrNoChain, false},
		{"expired leaf", v, p.leaf(t, validity(t0.Add(-48*time.Hour), t0.Add(-time.Hour))).c, nil, Login, t0, ErrNoChain, true},
		{"expired intermediate on the fast path", mustVerifier(t, expiredInter.anchor("old")), expiredInter.leaf(t, validity(t0.Add(-time.Hour), t0.Add(time.Hour))).c,
			nil, Login, t0, ErrNoChain, true},
		{"expired root behind a valid intermediate", mustVerifier(t, expiredRoot.anchor("expired")), expiredRoot.leaf(t).c, nil, Login, t0, ErrNoChain, true},
		{"the root as leaf", v, p.root, nil, DocumentSignature, t0, ErrAnchorLeaf, false},
		{"no time", v, p.leaf(t).c, nil, Login, time.Time{}, ErrNoTime, false},
		{"chain forbids the extended key usage", v, p.leaf(t, extKeyUsage(x509.ExtKeyUsageEmailProtection)).c, nil, Login, t0, ErrNoChain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := tc.v.Verify(tc.leaf, tc.extra, tc.purpose, tc.at)
			if !errors.Is(err, tc.wantErr) || ch.Anchor != nil {
				t.Fatalf("Verify = %+v, %v; want %v", ch, err, tc.wantErr)
			}
			var inv x509.CertificateInvalidError
			if got := errors.As(err, &inv) && inv.Reason == x509.Expired; got != tc.expired {
				t.Fatalf("expired = %v, want %v (%v)", got, tc.expired, err)
			}
		})
	}
	// The unlisted intermediate, sent by the client, takes the full path.
	if ch, err := v.Verify(sideLeaf.c, []*x509.Certificate{side}, Login, t0); err != nil || !ch.Issuer().Equal(side) {
		t.Fatalf("untrusted intermediate that chains: %v", err)
	}
}

// TestVerifyPurposes: each purpose refuses a leaf without its key usage,
// without its extended key usage, and (where it has one) against its rule;
// the chain still comes back with the *PurposeError.
func TestVerifyPurposes(t *testing.T) {
	p := newPKI(t, "Yagona")
	v := mustVerifier(t, p.anchor("yagona"))
	org := func(c *x509.Certificate) {
		c.Subject.ExtraNames = append(c.Subject.ExtraNames, organizationIdentifier("NTRUZ-201234567"))
	}
	signing := []func(*x509.Certificate){keyUsage(x509.KeyUsageContentCommitment), extKeyUsage(x509.ExtKeyUsageEmailProtection)}
	tests := []struct {
		name    string
		purpose Purpose
		mod     []func(*x509.Certificate)
		check   string // "" passes
	}{
		{"login", Login, nil, ""},
		{"login without digitalSignature", Login, []func(*x509.Certificate){keyUsage(x509.KeyUsageContentCommitment)}, CheckKeyUsage},
		{"login with no extended key usage listed", Login, []func(*x509.Certificate){extKeyUsage()}, CheckExtKeyUsage},
		{"tls client", TLSClient, nil, ""},
		{"tls client without digitalSignature", TLSClient, []func(*x509.Certificate){keyUsage(x509.KeyUsageKeyEncipherment)}, CheckKeyUsage},
		{"tls client with no extended key usage listed", TLSClient, []func(*x509.Certificate){extKeyUsage()}, CheckExtKeyUsage},
		{"document signature, nonRepudiation", DocumentSignature, signing, ""},
		{"document signature, digitalSignature", DocumentSignature, nil, ""},
		{"document signature, keyEncipherment only", DocumentSignature, []func(*x509.Certificate){keyUsage(x509.KeyUsageKeyEncipherment)}, CheckKeyUsage},
		{"seal", Seal, append(signing, org), ""},
		{"seal without an organization", Seal, signing, CheckRule},
		{"seal without its key usage", Seal, []func(*x509.Certificate){keyUsage(x509.KeyUsageKeyEncipherment), org}, CheckKeyUsage},
		{"time-stamping", Timestamp, []func(*x509.Certificate){tsaEKU}, ""},
		{"time-stamping with a second extended key usage", Timestamp,
			[]func(*x509.Certificate){extKeyUsage(x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageClientAuth)}, CheckExtKeyUsage},
		{"OCSP signing", OCSPSigning, []func(*x509.Certificate){extKeyUsage(x509.ExtKeyUsageOCSPSigning)}, ""},
		{"OCSP signing without digitalSignature", OCSPSigning,
			[]func(*x509.Certificate){keyUsage(x509.KeyUsageCRLSign), extKeyUsage(x509.ExtKeyUsageOCSPSigning)}, CheckKeyUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := p.leaf(t, tc.mod...).c
			ch, err := v.Verify(leaf, nil, tc.purpose, t0)
			if ch.Anchor == nil {
				t.Fatalf("no chain: %v", err)
			}
			var pe *PurposeError
			switch {
			case tc.check == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.check != "" && (!errors.As(err, &pe) || pe.Check != tc.check || pe.Purpose != tc.purpose):
				t.Fatalf("Verify = %v; want a %s refusal", err, tc.check)
			}
			if err := tc.purpose.Check(leaf); (err == nil) != (tc.check == "") {
				t.Fatalf("Check = %v", err)
			}
		})
	}
	// The issuers' extended key usages bind the leaf's (RFC 5280 is
	// silent, crypto/x509 nests them): an intermediate for clientAuth
	// only cannot issue a time-stamping certificate.
	q := newPKI(t, "Narrow", extKeyUsage(x509.ExtKeyUsageClientAuth))
	w := mustVerifier(t, q.anchor("narrow"))
	if _, err := w.Verify(q.leaf(t, tsaEKU).c, nil, Timestamp, t0); !errors.Is(err, ErrNoChain) {
		t.Fatalf("a TSA under a clientAuth-only intermediate: %v", err)
	}
	// No purpose at all refuses.
	if err := Purpose(0).Check(p.leaf(t).c); err == nil {
		t.Fatal("the zero purpose passed")
	}
}

// TestChainStatus: the status is asked of the chain's anchor, with the
// leaf and its issuer; an error or a missing source is Unavailable, which
// a login refuses unless the anchor fails open.
func TestChainStatus(t *testing.T) {
	p := newPKI(t, "Yagona")
	leaf := p.leaf(t)
	login := RuleFor(UseLogin, Unavailable)
	for _, tc := range []struct {
		name     string
		src      StatusSource
		failOpen bool
		want     State
		wantErr  error
		verdict  Verdict
	}{
		{"good", fixedSource{st: Status{State: Good, Source: SourceRecords}}, false, Good, nil, Pass},
		{"suspended", fixedSource{st: Status{State: Suspended, Time: t0}}, false, Suspended, nil, Refuse},
		{"source error, fail closed", fixedSource{err: errDown}, false, Unavailable, errDown, Refuse},
		{"source error, fail open", fixedSource{err: errDown}, true, Unavailable, errDown, Pass},
		{"no source, fail closed", nil, false, Unavailable, ErrNoSource, Refuse},
		{"no source, fail open", nil, true, Unavailable, ErrNoSource, Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := p.anchor("yagona")
			a.Status, a.FailOpen = tc.src, tc.failOpen
			ch, err := mustVerifier(t, a).Verify(leaf.c, nil, Login, t0)
			if err != nil {
				t.Fatal(err)
			}
			st, err := ch.Status(context.Background())
			if st.State != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Status = %+v, %v; want %s, %v", st, err, tc.want, tc.wantErr)
			}
			rule := RuleFor(UseLogin, st.State)
			if st.State == Unavailable {
				rule = login
			}
			if got := rule.Decide(st, time.Time{}, ch.Anchor.FailOpen); got != tc.verdict {
				t.Fatalf("login verdict %v, want %v", got, tc.verdict)
			}
		})
	}
}

// BenchmarkVerify compares the fast path (a leaf under a pre-verified
// intermediate) with the full path (the intermediate sent as untrusted,
// the root's signature checked every time).
func BenchmarkVerify(b *testing.B) {
	p := newPKI(b, "Yagona")
	v := mustVerifier(b, p.anchor("yagona"))
	leaf := p.leaf(b).c
	full := mustVerifier(b, Anchor{Name: "yagona", Root: p.root})
	for _, bc := range []struct {
		name  string
		v     *Verifier
		extra []*x509.Certificate
	}{{"fast", v, nil}, {"full", full, []*x509.Certificate{p.inter}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.v.Verify(leaf, bc.extra, Login, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

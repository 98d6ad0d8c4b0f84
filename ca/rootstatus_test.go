package ca

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/pkg/cache"
)

var rootURLs = URLs{OCSP: "http://127.0.0.1/ocsp", CAIssuers: "http://127.0.0.1/pki/root.cer", CRL: "http://127.0.0.1/crl/root.crl"}

func hierarchyConfig(t *testing.T, dir string, ks KeyStore, now func() time.Time, urls URLs) HierarchyConfig {
	t.Helper()
	linter, err := NewLinter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return HierarchyConfig{CertDir: dir, Keys: ks, RootKey: "root", IssuingKey: "issuing", Organization: "Yagona Test",
		RootName: "Test Root", IssuingName: "Test Issuing", Linter: linter, Now: now, URLs: urls}
}

// The issuing CA carries the root's URLs, and the root publishes a CRL
// and OCSP answers for it, signed by the root key.
func TestRootStatusMadeWithIssuingCA(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	h, err := LoadHierarchy(hierarchyConfig(t, t.TempDir(), ks, func() time.Time { return now }, rootURLs))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Issuing.CRLDistributionPoints; len(got) != 1 || got[0] != rootURLs.CRL {
		t.Errorf("issuing CDP = %v", got)
	}
	if got := h.Issuing.OCSPServer; len(got) != 1 || got[0] != rootURLs.OCSP {
		t.Errorf("issuing OCSP = %v", got)
	}
	if got := h.Issuing.IssuingCertificateURL; len(got) != 1 || got[0] != rootURLs.CAIssuers {
		t.Errorf("issuing caIssuers = %v", got)
	}
	rs := h.RootStatus
	if rs == nil {
		t.Fatal("no root status")
	}
	crl, err := x509.ParseRevocationList(rs.ARL)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(h.Root); err != nil {
		t.Error(err)
	}
	if len(crl.Extensions) != 2 { // authorityKeyIdentifier and cRLNumber; no issuingDistributionPoint
		t.Errorf("ARL extensions: %v", crl.Extensions)
	}
	if !crl.NextUpdate.Equal(now.Add(year)) {
		t.Errorf("ARL nextUpdate = %v", crl.NextUpdate)
	}
	if len(rs.Answers) != 4 {
		t.Fatalf("%d answers, want one per CertID hash", len(rs.Answers))
	}
	for _, der := range rs.Answers {
		r, err := ocsp.ParseResponseForCert(der, h.Issuing, h.Root)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Good {
			t.Errorf("issuing CA status %d", r.Status)
		}
	}
}

// A hierarchy made before the issuing CA carried URLs is upgraded when
// the root key is here (same key and name, the old file kept), and left as
// it is, with its root status still missing, when the root key is away.
func TestIssuingCAUpgrade(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name        string
		rootKeyHere bool
	}{{"root key here", true}, {"root key away", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ks := &memKeys{keys: map[string]crypto.Signer{}}
			old, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, URLs{}))
			if err != nil {
				t.Fatal(err)
			}
			if len(old.Issuing.CRLDistributionPoints) != 0 {
				t.Fatal("made with a CDP")
			}
			os.Remove(filepath.Join(dir, arlFile))
			os.Remove(filepath.Join(dir, answersFile))
			if !tc.rootKeyHere {
				delete(ks.keys, "root")
			}
			h, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, rootURLs))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.rootKeyHere {
				if !h.Issuing.Equal(old.Issuing) || h.RootStatus != nil {
					t.Error("changed without the root key")
				}
				return
			}
			if h.Issuing.Equal(old.Issuing) || len(h.Issuing.CRLDistributionPoints) != 1 {
				t.Fatal("not reissued")
			}
			if !publicKeysEqual(h.Issuing.PublicKey, old.Issuing.PublicKey) || string(h.Issuing.RawSubject) != string(old.Issuing.RawSubject) {
				t.Error("reissued with another key or name")
			}
			if _, err := os.Stat(filepath.Join(dir, "issuing.pem.old")); err != nil {
				t.Error(err)
			}
			if h.RootStatus == nil || !h.RootStatus.covers(h.Issuing) {
				t.Error("root status not made for the new certificate")
			}
		})
	}
}

// The root status is remade at half its life when the root key is here,
// and kept as it is when the key is away.
func TestRootStatusRefresh(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	first, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, rootURLs))
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(year / 3)
	same, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, rootURLs))
	if err != nil {
		t.Fatal(err)
	}
	if string(same.RootStatus.ARL) != string(first.RootStatus.ARL) {
		t.Error("remade before half its life")
	}
	now = now.Add(year / 3)
	rootKey := ks.keys["root"]
	delete(ks.keys, "root")
	kept, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, rootURLs))
	if err != nil {
		t.Fatal(err)
	}
	if string(kept.RootStatus.ARL) != string(first.RootStatus.ARL) {
		t.Error("changed without the root key")
	}
	ks.keys["root"] = rootKey
	fresh, err := LoadHierarchy(hierarchyConfig(t, dir, ks, clock, rootURLs))
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.RootStatus.ThisUpdate.Equal(now) {
		t.Errorf("not remade: thisUpdate %v", fresh.RootStatus.ThisUpdate)
	}
}

// The OCSP signer has no CRL distribution point and no policy, and carries
// id-pkix-ocsp-nocheck.
func TestOCSPSignerProfile(t *testing.T) {
	f := newFixture(t, withSystemProfile)
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	cert, _, err := f.a.SystemCertificate(t.Context(), ks, SystemCert{Kind: "ocsp", CertPath: filepath.Join(t.TempDir(), "ocsp.pem"),
		KeyURI: "ocsp", Validity: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.CRLDistributionPoints) != 0 || len(cert.Policies) != 0 || len(cert.OCSPServer) != 0 {
		t.Errorf("CDP %v, policies %v, OCSP %v", cert.CRLDistributionPoints, cert.Policies, cert.OCSPServer)
	}
	found := false
	for _, e := range cert.Extensions {
		found = found || e.Id.Equal(oidOCSPNoCheck)
	}
	if !found {
		t.Error("no id-pkix-ocsp-nocheck")
	}
}

// The responder serves the root's pre-signed answer for the issuing CA.
func TestResponderServesRootAnswer(t *testing.T) {
	f := newFixture(t, withSystemProfile)
	h := f.hier
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	cert, key, err := f.a.SystemCertificate(t.Context(), ks, SystemCert{Kind: "ocsp", CertPath: filepath.Join(t.TempDir(), "ocsp.pem"),
		KeyURI: "ocsp", Validity: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r, err := responder.New(responder.Config{Issuer: h.Issuing, ResponderCert: cert, Signer: key, Now: f.clock.Now}, f.a, cache.NewMemory(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetPresigned(h.RootStatus.Answers); err != nil {
		t.Fatal(err)
	}
	for _, hash := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		req, err := ocsp.CreateRequest(h.Issuing, h.Root, &ocsp.RequestOptions{Hash: hash})
		if err != nil {
			t.Fatal(err)
		}
		der, _ := r.Respond(t.Context(), req)
		resp, err := ocsp.ParseResponseForCert(der, h.Issuing, h.Root)
		if err != nil {
			t.Fatalf("%v: %v", hash, err)
		}
		if resp.Status != ocsp.Good {
			t.Errorf("%v: status %d", hash, resp.Status)
		}
	}
}

func withSystemProfile(c *Config) {
	c.Profiles = map[string]Profile{"system": {Name: "system", Policy: testProfiles["citizen"].Policy, Validity: year,
		KeyUsage: x509.KeyUsageDigitalSignature}}
}

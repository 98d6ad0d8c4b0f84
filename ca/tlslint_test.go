package ca

import (
	"crypto"
	"path/filepath"
	"slices"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"go.yaml.in/yaml/v3"

	"github.com/yagona/yagona/configs"
)

// shippedTLS is the part of a shipped configuration the TLS certificate
// is made from.
type shippedTLS struct {
	PublicURL struct {
		HTTP string `yaml:"http"`
	} `yaml:"public_url"`
	TLSHosts []string `yaml:"tls_hosts"`
	CA       struct {
		TLSCertValidity time.Duration `yaml:"tls_cert_validity"`
	} `yaml:"ca"`
	Profiles map[string]struct {
		Policy string `yaml:"policy"`
	} `yaml:"profiles"`
}

// The TLS certificate a server makes from each shipped configuration
// passes the CA/Browser Forum Baseline Requirements lints (with RFC 5280
// and ETSI), except for the documented exclusions; the development one
// also for the two names no public CA could certify.
func TestTLSCertificateBaselineRequirements(t *testing.T) {
	for _, tc := range []struct {
		file string
		dev  bool
	}{{"production.yaml", false}, {"dev.yaml", true}} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := configs.Files.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var cfg shippedTLS
			if err := yaml.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			base := cfg.PublicURL.HTTP
			f := newFixture(t, withSystemProfile, func(c *Config) {
				c.URLs = URLs{OCSP: base + "/ocsp", CAIssuers: base + "/pki/issuing.cer", CRL: base + "/crl/issuing.crl"}
			})
			ks := &memKeys{keys: map[string]crypto.Signer{}}
			cert, _, err := f.a.SystemCertificate(t.Context(), ks, SystemCert{Kind: "tls", CertPath: filepath.Join(t.TempDir(), "tls.pem"),
				KeyURI: "tls", Hosts: cfg.TLSHosts, Validity: cfg.CA.TLSCertValidity})
			if err != nil {
				t.Fatal(err)
			}
			reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: TLSLintSources})
			if err != nil {
				t.Fatal(err)
			}
			zc, err := zx509.ParseCertificate(cert.Raw)
			if err != nil {
				t.Fatal(err)
			}
			excluded := TLSLintExcluded(tc.dev)
			fired := map[string]bool{}
			for name, r := range zlint.LintCertificateEx(zc, reg).Results {
				if r.Status != lint.Error && r.Status != lint.Fatal && r.Status != lint.Warn {
					continue
				}
				if slices.Contains(excluded, name) {
					fired[name] = true
					continue
				}
				t.Errorf("%s: %s %s", name, r.Status, r.Details)
			}
			// Every exclusion is still needed: the list shrinks when a
			// finding goes away.
			for _, name := range excluded {
				if !fired[name] {
					t.Errorf("exclusion %s: the lint no longer fires; remove it from the table and docs/profiles.md", name)
				}
			}
		})
	}
}

// The TLS certificate is renewed when a third of its (now shorter) life is
// left, and one made before the 200-day limit, or naming an organization,
// is replaced at once.
func TestTLSCertificateRenewal(t *testing.T) {
	f := newFixture(t, withSystemProfile)
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	sc := SystemCert{Kind: "tls", CertPath: filepath.Join(t.TempDir(), "tls.pem"), KeyURI: "tls",
		Hosts: []string{"id.example.uz"}, Validity: 365 * 24 * time.Hour}
	old, _, err := f.a.SystemCertificate(t.Context(), ks, sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Subject.Organization) != 0 {
		t.Errorf("TLS subject names an organization: %v", old.Subject)
	}
	sc.Validity = DefaultTLSCertValidity
	cur, _, err := f.a.SystemCertificate(t.Context(), ks, sc)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Equal(old) {
		t.Fatal("a year-long TLS certificate was kept under a 198-day validity")
	}
	if got := cur.NotAfter.Sub(cur.NotBefore); got > sc.Validity+backdate {
		t.Errorf("validity %v", got)
	}
	for _, step := range []struct {
		to      time.Time
		renewed bool
	}{
		{cur.NotAfter.Add(-sc.Validity/3 - time.Hour), false},
		{cur.NotAfter.Add(-sc.Validity/3 + time.Hour), true},
	} {
		f.clock.Advance(step.to.Sub(f.clock.Now()))
		got, _, err := f.a.SystemCertificate(t.Context(), ks, sc)
		if err != nil {
			t.Fatal(err)
		}
		if renewed := !got.Equal(cur); renewed != step.renewed {
			t.Errorf("at %v: renewed %v, want %v", step.to, renewed, step.renewed)
		}
	}
}

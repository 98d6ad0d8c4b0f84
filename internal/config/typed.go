package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/internal/reqid"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/validation"
)

// The schema's translations into the typed inputs of the packages that
// use it: ca takes profiles and a hierarchy, idp a key-naming function,
// the process a logger.

// CAProfiles converts the configured profiles to the CA's typed form.
func (c *Config) CAProfiles() (map[string]ca.Profile, error) {
	if len(c.Profiles) == 0 {
		return nil, errors.New("config: profiles: at least one is needed")
	}
	out := make(map[string]ca.Profile, len(c.Profiles))
	var errs []error
	for name, pc := range c.Profiles {
		p := ca.Profile{Name: name, Validity: pc.Validity, Organization: pc.Organization, Title: pc.Title,
			Service: pc.Service, System: pc.System, Renewable: pc.Renewable}
		oid, err := ParseOID(pc.Policy)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: profiles.%s.policy: %w", name, err))
		}
		p.Policy = oid
		for _, ku := range pc.KeyUsage {
			v, ok := ca.KeyUsageByName[ku]
			if !ok {
				errs = append(errs, fmt.Errorf("config: profiles.%s.key_usage: unknown %q", name, ku))
			}
			p.KeyUsage |= v
		}
		for _, eku := range pc.ExtKeyUsage {
			v, ok := ca.ExtKeyUsageByName[eku]
			if !ok {
				errs = append(errs, fmt.Errorf("config: profiles.%s.ext_key_usage: unknown %q", name, eku))
			}
			p.ExtKeyUsage = append(p.ExtKeyUsage, v)
		}
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
		}
		out[name] = p
	}
	return out, errors.Join(errs...)
}

// TokenKeyURI returns how token-signing keys are named: nil (files) unless
// keys.token names a PKCS#11 token, where each key is object oidc-<kid>.
func (c *Config) TokenKeyURI() func(kid string) string {
	if c.Keys.Token == "" {
		return nil
	}
	base, err := kms.ParseURI(c.Keys.Token)
	if err != nil { // validate refused it already
		return nil
	}
	return func(kid string) string {
		return kms.KeyURI{Scheme: "pkcs11", PKCS11: base.PKCS11.WithObject("oidc-" + kid)}.String()
	}
}

// Hierarchy says where the CA hierarchy lives, for serve and for the key
// ceremony alike.
func (c *Config) Hierarchy(keys ca.KeyStore, linter *ca.Linter, log *slog.Logger) ca.HierarchyConfig {
	return ca.HierarchyConfig{
		CertDir: c.DataPath("certs"), Keys: keys, RootKey: c.Keys.Root, IssuingKey: c.Keys.Issuing,
		Organization: c.CA.Organization, RootName: c.CA.RootName, IssuingName: c.CA.IssuingName,
		Linter: linter, Logger: log, URLs: c.RootURLs(),
	}
}

// RootURLs are the root's status and certificate URLs, which the issuing
// CA certificate carries: its OCSP responder, certificate and CRL.
func (c *Config) RootURLs() ca.URLs {
	base := strings.TrimSuffix(c.PublicURL.HTTP, "/")
	if base == "" {
		return ca.URLs{}
	}
	return ca.URLs{OCSP: base + "/ocsp", CAIssuers: base + "/pki/root.cer", CRL: base + "/crl/root.crl"}
}

// Logger is the process's logger: level and format (text or json) as
// configured, writing to w; records logged with a request's context
// carry its request_id.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if c.Log.Level != "" {
		_ = level.UnmarshalText([]byte(c.Log.Level)) // Validate refused others
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(reqid.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(reqid.LogHandler(slog.NewTextHandler(w, opts)))
}

// ValidationPolicy is the embedded signature validation policy
// (configs/validation-policy.yaml).
func ValidationPolicy() (*validation.Policy, error) {
	b, err := configs.Files.ReadFile("validation-policy.yaml")
	if err != nil {
		return nil, err
	}
	return validation.ParsePolicy(b)
}

// Package config is the schema of Yagona's configuration file
// (configs/*.yaml) and its validation: unknown keys are errors, and
// Validate reports every problem at once. The server (internal/server)
// translates it into the typed configurations of ca and idp.
package config

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/pkg/kms"
)

// Config is the schema of configs/*.yaml. Unknown keys are errors.
type Config struct {
	DataDir string `yaml:"data_dir"`
	Listen  struct {
		HTTPS string `yaml:"https"`
		HTTP  string `yaml:"http"`
	} `yaml:"listen"`
	PublicURL struct {
		HTTP  string `yaml:"http"`
		HTTPS string `yaml:"https"`
	} `yaml:"public_url"`
	TLSHosts []string `yaml:"tls_hosts"`
	Store    string   `yaml:"store"`
	Cache    string   `yaml:"cache"`
	Keys     struct {
		PassphraseEnv      string `yaml:"passphrase_env"`
		PassphraseFile     string `yaml:"passphrase_file"`
		GeneratePassphrase bool   `yaml:"generate_passphrase"`
		Root               string `yaml:"root"`
		Issuing            string `yaml:"issuing"`
		OCSP               string `yaml:"ocsp"`
		TSA                string `yaml:"tsa"`
		Log                string `yaml:"log"` // Ed25519 key signing the transparency log's checkpoints
		TLS                string `yaml:"tls"`
		// Token is where new token-signing (OIDC) keys go: a pkcs11 URI
		// naming a token but no key; each key gets object=oidc-<kid>.
		// Empty: encrypted files keys/oidc-<kid>.key.
		Token string `yaml:"token"`
	} `yaml:"keys"`
	CA struct {
		Organization      string        `yaml:"organization"`
		RootName          string        `yaml:"root_name"`
		IssuingName       string        `yaml:"issuing_name"`
		EnrollmentTTL     time.Duration `yaml:"enrollment_ttl"`
		MaxAttempts       int           `yaml:"max_attempts"`
		CRLValidity       time.Duration `yaml:"crl_validity"`
		CRLShardWidth     time.Duration `yaml:"crl_shard_width"` // certificates expiring in one window share a CRL shard; zero: one CRL
		OCSPValidity      time.Duration `yaml:"ocsp_validity"`
		OCSPCertValidity  time.Duration `yaml:"ocsp_cert_validity"`
		TLSCertValidity   time.Duration `yaml:"tls_cert_validity"`
		TSACertValidity   time.Duration `yaml:"tsa_cert_validity"`
		TSAPolicy         string        `yaml:"tsa_policy"`   // policy OID in every time-stamp token
		TSAAccuracy       time.Duration `yaml:"tsa_accuracy"` // stated accuracy; zero: 1 s
		LogInterval       time.Duration `yaml:"log_interval"` // transparency log integration and checkpoint period; zero: 10 s
		FailuresPerMinute int           `yaml:"failures_per_minute"`
		LintExclude       []string      `yaml:"lint_exclude"`
	} `yaml:"ca"`
	Jobs struct {
		// Lease is how long a replica's leadership of a periodic job
		// lasts without renewal (renewed every third of it); a dead
		// leader is replaced within it. Zero: 15 s.
		Lease time.Duration `yaml:"lease"`
	} `yaml:"jobs"`
	Log struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	Profiles map[string]ProfileConfig `yaml:"profiles"`
	IDP      IDPConfig                `yaml:"idp"`
}

// IDPConfig configures the OpenID Connect provider (docs/oidc.md). Its
// issuer is public_url.https.
type IDPConfig struct {
	// The HMAC key behind every sub: the same on every replica, never
	// changed (changing it changes every person's sub). From the
	// environment variable, else the file; in development
	// (generate_subject_secret) a missing file is created.
	SubjectSecretEnv      string        `yaml:"subject_secret_env"`
	SubjectSecretFile     string        `yaml:"subject_secret_file"`
	GenerateSubjectSecret bool          `yaml:"generate_subject_secret"`
	AgentURL              string        `yaml:"agent_url"`
	TLSLogin              bool          `yaml:"tls_login"`
	ForwardedCertHeader   string        `yaml:"forwarded_cert_header"`
	TrustedProxies        []string      `yaml:"trusted_proxies"`
	AccessTokenTTL        time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL            time.Duration `yaml:"id_token_ttl"`
	RefreshTTL            time.Duration `yaml:"refresh_ttl"`
	SessionTTL            time.Duration `yaml:"session_ttl"`
	KeyRotation           time.Duration `yaml:"key_rotation"`
	FailuresPerMinute     int           `yaml:"failures_per_minute"`
	// LoginPolicies maps certificate policy OIDs to the level of assurance
	// a login with them reaches; certificates with no listed policy cannot
	// log in.
	LoginPolicies map[string]LoginPolicyConfig `yaml:"login_policies"`
	// MethodCap caps the level per login method (cms, tls, forwarded).
	MethodCap map[string]string `yaml:"method_cap"`
	// ExternalAnchors are other CAs whose certificates may log in.
	ExternalAnchors []ExternalAnchorConfig `yaml:"external_anchors"`
}

// LoginPolicyConfig is what a login with one certificate policy is worth.
type LoginPolicyConfig struct {
	ACR string   `yaml:"acr"`
	AMR []string `yaml:"amr"`
}

// ExternalAnchorConfig is another CA trusted for login.
type ExternalAnchorConfig struct {
	Name          string   `yaml:"name"`
	Root          string   `yaml:"root"`          // PEM file
	Intermediates []string `yaml:"intermediates"` // PEM files
	// Status is how revocation is learnt: "ocsp" (the default: the
	// responder the certificate names, asked only after its chain is
	// validated, answers cached until nextUpdate) or "none".
	Status   string `yaml:"status"`
	FailOpen bool   `yaml:"fail_open"`
}

// ProfileConfig is one certificate profile in the configuration.
type ProfileConfig struct {
	Policy       string        `yaml:"policy"`
	Validity     time.Duration `yaml:"validity"`
	KeyUsage     []string      `yaml:"key_usage"`
	ExtKeyUsage  []string      `yaml:"ext_key_usage"`
	Organization bool          `yaml:"organization"`
	Title        bool          `yaml:"title"`
	Service      bool          `yaml:"service"`
	System       bool          `yaml:"system"`
	Renewable    bool          `yaml:"renewable"`
}

// Load reads path, or the embedded default when path is empty.
func Load(path string) (*Config, error) {
	var data []byte
	var err error
	if path == "" {
		data, err = configs.Files.ReadFile(configs.Default)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data)
}

// Parse reads a configuration from data and validates it.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("config: "+format, args...)) }
	for name, addr := range map[string]string{"listen.https": c.Listen.HTTPS, "listen.http": c.Listen.HTTP} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("%s: %q is not host:port", name, addr)
		}
	}
	for name, u := range map[string]string{"public_url.http": c.PublicURL.HTTP, "public_url.https": c.PublicURL.HTTPS} {
		pu, err := url.Parse(u)
		want := strings.TrimPrefix(name, "public_url.")
		if err != nil || pu.Scheme != want || pu.Host == "" {
			bad("%s: %q must be an absolute %s:// URL", name, u, want)
		}
	}
	if len(c.TLSHosts) == 0 {
		bad("tls_hosts: at least one host name or address is needed")
	}
	if !strings.HasPrefix(c.Store, "sqlite:") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		bad("store: %q must be sqlite:FILE or postgres://...", c.Store)
	}
	if c.Cache != "memory" && !strings.HasPrefix(c.Cache, "redis://") && !strings.HasPrefix(c.Cache, "rediss://") &&
		!strings.HasPrefix(c.Cache, "redis-cluster://") && !strings.HasPrefix(c.Cache, "rediss-cluster://") {
		bad("cache: %q must be memory, redis://... or redis-cluster://...", c.Cache)
	}
	if c.Jobs.Lease != 0 && (c.Jobs.Lease < 3*time.Second || c.Jobs.Lease > time.Hour) {
		bad("jobs.lease: %v is outside 3s..1h", c.Jobs.Lease)
	}
	if c.CA.TLSCertValidity < 0 || c.CA.TLSCertValidity > ca.MaxTLSCertValidity {
		bad("ca.tls_cert_validity: %v is outside 0..%v (Baseline Requirements: at most 200 days; zero: %v)",
			c.CA.TLSCertValidity, ca.MaxTLSCertValidity, ca.DefaultTLSCertValidity)
	}
	if c.CA.CRLShardWidth < 0 || (c.CA.CRLShardWidth > 0 && c.CA.CRLShardWidth < time.Hour) {
		bad("ca.crl_shard_width: %v must be 0 (one CRL) or at least 1h", c.CA.CRLShardWidth)
	}
	if c.Keys.PassphraseEnv == "" && c.Keys.PassphraseFile == "" {
		bad("keys: passphrase_env or passphrase_file is required")
	}
	for name, uri := range map[string]string{"root": c.Keys.Root, "issuing": c.Keys.Issuing, "ocsp": c.Keys.OCSP, "tls": c.Keys.TLS, "tsa": c.Keys.TSA, "log": c.Keys.Log} {
		if uri == "" {
			bad("keys.%s: key URI is required", name)
			continue
		}
		u, err := kms.ParseURI(uri)
		switch {
		case err != nil:
			bad("keys.%s: %v", name, err)
		case u.Scheme == "pkcs11" && name == "log":
			bad("keys.log: the log key is Ed25519, which PKCS#11 tokens cannot hold here; keep it a file: key")
		case u.Scheme == "pkcs11" && u.PKCS11.Object == "" && u.PKCS11.ID == "":
			bad("keys.%s: pkcs11 key URI names no key; add object=LABEL", name)
		}
	}
	if c.Keys.Token != "" {
		u, err := kms.ParseURI(c.Keys.Token)
		switch {
		case err != nil:
			bad("keys.token: %v", err)
		case u.Scheme != "pkcs11" || u.PKCS11.Object != "" || u.PKCS11.ID != "":
			bad("keys.token: want a pkcs11 URI naming a token but no object (token-signing keys get object=oidc-<kid>)")
		}
	}
	if c.CA.Organization == "" || c.CA.RootName == "" || c.CA.IssuingName == "" {
		bad("ca: organization, root_name and issuing_name are required")
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		bad("log.format: %q is not text or json", c.Log.Format)
	}
	if _, err := c.CAProfiles(); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseOID(c.CA.TSAPolicy); err != nil {
		bad("ca.tsa_policy: %v", err)
	}
	if c.IDP.SubjectSecretEnv == "" && c.IDP.SubjectSecretFile == "" {
		bad("idp: subject_secret_env or subject_secret_file is required")
	}
	for oid, lp := range c.IDP.LoginPolicies {
		if _, err := ParseOID(oid); err != nil {
			bad("idp.login_policies: %v", err)
		}
		switch lp.ACR {
		case "low", "substantial", "high":
		default:
			bad("idp.login_policies.%s.acr: %q is not low, substantial or high", oid, lp.ACR)
		}
	}
	for m, a := range c.IDP.MethodCap {
		if m != "cms" && m != "tls" && m != "forwarded" {
			bad("idp.method_cap: unknown method %q", m)
		}
		if a != "low" && a != "substantial" && a != "high" {
			bad("idp.method_cap.%s: %q is not low, substantial or high", m, a)
		}
	}
	for _, p := range c.IDP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			bad("idp.trusted_proxies: %q is not a CIDR prefix", p)
		}
	}
	if c.IDP.AgentURL != "" {
		if u, err := url.Parse(c.IDP.AgentURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("idp.agent_url: %q must be an http(s) URL", c.IDP.AgentURL)
		}
	}
	for i, a := range c.IDP.ExternalAnchors {
		if a.Name == "" || a.Root == "" {
			bad("idp.external_anchors[%d]: name and root are required", i)
		}
		if a.Status != "" && a.Status != "ocsp" && a.Status != "none" {
			bad("idp.external_anchors[%d].status: %q is not ocsp or none", i, a.Status)
		}
	}
	return errors.Join(errs...)
}

// ParseOID parses a dotted object identifier such as 2.999.1.
func ParseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%q is not a dotted OID", s)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("%q is not a dotted OID", s)
		}
		oid[i] = int(n)
	}
	return oid, nil
}

// DataPath resolves a path relative to the data directory.
func (c *Config) DataPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// StoreURL resolves a relative SQLite file against the data directory.
func (c *Config) StoreURL() string {
	if f, ok := strings.CutPrefix(c.Store, "sqlite:"); ok {
		return "sqlite:" + c.DataPath(f)
	}
	return c.Store
}

package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// KeyStore loads and creates keys by URI; pkg/kms satisfies it through a
// small adapter, kms.KeyStore.
type KeyStore interface {
	Load(uri string) (crypto.Signer, error)
	Create(uri string, alg string) (crypto.Signer, error) // alg: "ecdsa-p256", "ecdsa-p384"
	Exists(uri string) (bool, error)
}

// HierarchyConfig says where the CA hierarchy lives and how to name it.
type HierarchyConfig struct {
	CertDir         string // PEM certificates: root.pem, issuing.pem, ocsp.pem, tls.pem
	Keys            KeyStore
	RootKey         string // key URIs
	IssuingKey      string
	Organization    string
	RootName        string
	IssuingName     string
	RootValidity    time.Duration // default 20 years
	IssuingValidity time.Duration // default 10 years
	// URLs go into the issuing CA certificate: the root's OCSP responder,
	// the root certificate (caIssuers) and the root's CRL.
	URLs        URLs
	ARLValidity time.Duration // the root's CRL and OCSP answers; default 1 year
	Linter      *Linter
	Now         func() time.Time
	Logger      *slog.Logger
}

// Hierarchy is the loaded CA hierarchy.
type Hierarchy struct {
	Root       *x509.Certificate
	Issuing    *x509.Certificate
	IssuingKey crypto.Signer
	Created    bool        // made on this call
	RootStatus *RootStatus // nil when never made (the root key was never here since)
}

const year = 365 * 24 * time.Hour

// LoadHierarchy loads the root and issuing CA, creating them on first use:
// the root is ECDSA P-384 and self-signed, the issuing CA ECDSA P-256 with
// path length 0. The root key is loaded only when the issuing CA is made.
func LoadHierarchy(cfg HierarchyConfig) (*Hierarchy, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RootValidity == 0 {
		cfg.RootValidity = 20 * year
	}
	if cfg.IssuingValidity == 0 {
		cfg.IssuingValidity = 10 * year
	}
	if cfg.ARLValidity == 0 {
		cfg.ARLValidity = year
	}
	if err := os.MkdirAll(cfg.CertDir, 0o755); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	h := &Hierarchy{}
	rootPath, issPath := filepath.Join(cfg.CertDir, "root.pem"), filepath.Join(cfg.CertDir, "issuing.pem")
	root, err := readCert(rootPath)
	if errors.Is(err, os.ErrNotExist) {
		root, err = createRoot(cfg, rootPath)
		h.Created = true
	}
	if err != nil {
		return nil, err
	}
	iss, err := readCert(issPath)
	if errors.Is(err, os.ErrNotExist) {
		iss, err = createIssuing(cfg, root, issPath)
		h.Created = true
	}
	if err == nil && lacksURLs(iss, cfg.URLs) {
		iss, err = upgradeIssuing(cfg, root, iss, issPath)
	}
	if err != nil {
		return nil, err
	}
	if err := iss.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("ca: %s is not signed by %s: %w", issPath, rootPath, err)
	}
	key, err := cfg.Keys.Load(cfg.IssuingKey)
	if err != nil {
		return nil, fmt.Errorf("ca: issuing key: %w", err)
	}
	h.Root, h.Issuing, h.IssuingKey = root, iss, key
	if h.RootStatus, err = rootStatus(cfg, root, iss); err != nil {
		return nil, err
	}
	return h, nil
}

func createRoot(cfg HierarchyConfig, path string) (*x509.Certificate, error) {
	key, err := LoadOrCreateKey(cfg.Keys, cfg.RootKey, "ecdsa-p384")
	if err != nil {
		return nil, fmt.Errorf("ca: root key: %w", err)
	}
	subj, err := systemSubject(cfg.Organization, cfg.RootName)
	if err != nil {
		return nil, err
	}
	now := cfg.Now()
	tmpl, err := caTemplate(subj, key.Public(), now, now.Add(cfg.RootValidity), -1)
	if err != nil {
		return nil, err
	}
	cert, err := signAndLint(cfg.Linter, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca: root certificate: %w", err)
	}
	cfg.Logger.Info("created root CA", "subject", cert.Subject.String(), "path", path)
	return cert, writeCert(path, cert)
}

func createIssuing(cfg HierarchyConfig, root *x509.Certificate, path string) (*x509.Certificate, error) {
	rootKey, err := cfg.Keys.Load(cfg.RootKey)
	if err != nil {
		return nil, fmt.Errorf("ca: root key (needed once, to certify the issuing CA): %w", err)
	}
	key, err := LoadOrCreateKey(cfg.Keys, cfg.IssuingKey, "ecdsa-p256")
	if err != nil {
		return nil, fmt.Errorf("ca: issuing key: %w", err)
	}
	subj, err := systemSubject(cfg.Organization, cfg.IssuingName)
	if err != nil {
		return nil, err
	}
	now := cfg.Now()
	notAfter := now.Add(cfg.IssuingValidity)
	if notAfter.After(root.NotAfter) {
		notAfter = root.NotAfter
	}
	tmpl, err := caTemplate(subj, key.Public(), now, notAfter, 0)
	if err != nil {
		return nil, err
	}
	withURLs(tmpl, cfg.URLs)
	cert, err := signAndLint(cfg.Linter, tmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("ca: issuing certificate: %w", err)
	}
	cfg.Logger.Info("created issuing CA", "subject", cert.Subject.String(), "path", path)
	return cert, writeCert(path, cert)
}

// withURLs puts the status and issuer certificate URLs into a template:
// the issuer's OCSP responder, its certificate (caIssuers) and its CRL.
// The issuing CA carries the root's: without them a validator checking the
// whole path (OpenSSL -crl_check_all, Java PKIX with revocation) cannot
// check the issuing CA.
func withURLs(t *x509.Certificate, u URLs) {
	if u.OCSP != "" {
		t.OCSPServer = []string{u.OCSP}
	}
	if u.CAIssuers != "" {
		t.IssuingCertificateURL = []string{u.CAIssuers}
	}
	if u.CRL != "" {
		t.CRLDistributionPoints = []string{u.CRL}
	}
}

// lacksURLs reports whether iss was made before the issuing CA carried
// the URLs configured (or for other URLs).
func lacksURLs(iss *x509.Certificate, u URLs) bool {
	return (u.CRL != "" && !slices.Equal(iss.CRLDistributionPoints, []string{u.CRL})) ||
		(u.OCSP != "" && !slices.Equal(iss.OCSPServer, []string{u.OCSP})) ||
		(u.CAIssuers != "" && !slices.Equal(iss.IssuingCertificateURL, []string{u.CAIssuers}))
}

// upgradeIssuing reissues the issuing CA certificate with its key and
// name, now with the configured URLs, when the root key is reachable;
// certificates it issued keep chaining (same name, same key). Without the
// root key the old certificate stays, with a warning.
func upgradeIssuing(cfg HierarchyConfig, root, iss *x509.Certificate, path string) (*x509.Certificate, error) {
	if !rootKeyHere(cfg) {
		cfg.Logger.Warn("the issuing CA certificate lacks the root's CRL and OCSP URLs, and the root key is not here to reissue it (docs/operations.md)")
		return iss, nil
	}
	if err := writeCert(path+".old", iss); err != nil {
		return nil, err
	}
	cfg.Logger.Warn("reissuing the issuing CA certificate with the root's CRL and OCSP URLs; the previous one is kept", "path", path+".old")
	return createIssuing(cfg, root, path)
}

// rootKeyHere reports whether the root key can be used now: it exists and
// opens (a key file without its passphrase, or a token not plugged in, is
// not here).
func rootKeyHere(cfg HierarchyConfig) bool {
	if ok, err := cfg.Keys.Exists(cfg.RootKey); err != nil || !ok {
		return false
	}
	if _, err := cfg.Keys.Load(cfg.RootKey); err != nil {
		cfg.Logger.Warn("the root key is there but does not open", "err", err)
		return false
	}
	return true
}

func caTemplate(subj []byte, pub crypto.PublicKey, notBefore, notAfter time.Time, pathLen int) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subj,
		NotBefore:             notBefore.Add(-backdate).Truncate(time.Second),
		NotAfter:              notAfter.Truncate(time.Second),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            pathLen,
		MaxPathLenZero:        pathLen == 0,
		SubjectKeyId:          ski,
	}, nil
}

// signAndLint signs a CA certificate and lints it. CA certificates are made
// once per hierarchy, by an operator, so the lint runs on the real
// certificate: a finding stops the ceremony before anything is written.
func signAndLint(l *Linter, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	if l != nil {
		if err := l.Certificate(der); err != nil {
			return nil, err
		}
	}
	return x509.ParseCertificate(der)
}

// LoadOrCreateKey loads the key under uri, creating it (of algorithm alg)
// on first use.
func LoadOrCreateKey(ks KeyStore, uri, alg string) (crypto.Signer, error) {
	ok, err := ks.Exists(uri)
	if err != nil {
		return nil, err
	}
	if ok {
		return ks.Load(uri)
	}
	return ks.Create(uri, alg)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("ca: %s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", path, err)
	}
	return c, nil
}

func writeCert(path string, c *x509.Certificate) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}

// SystemCert names a certificate the CA issues to its own services.
type SystemCert struct {
	Kind     string   // "ocsp", "tls" or "tsa"
	CertPath string   // PEM file
	KeyURI   string   // its key
	Hosts    []string // TLS: DNS names and IP addresses
	Validity time.Duration
}

var (
	oidOCSPNoCheck  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// SystemCertificate loads a system certificate, issuing a new one (and a
// key if there is none) when it is missing, renewed a third of its life
// before expiry, made for another key, or (TLS) for other hosts. Every
// system certificate is linted, recorded and revocable like any other.
func (a *Authority) SystemCertificate(ctx context.Context, ks KeyStore, sc SystemCert) (*x509.Certificate, crypto.Signer, error) {
	key, err := LoadOrCreateKey(ks, sc.KeyURI, "ecdsa-p256")
	if err != nil {
		return nil, nil, fmt.Errorf("ca: %s key: %w", sc.Kind, err)
	}
	now := a.now()
	cur, err := readCert(sc.CertPath)
	if err == nil && publicKeysEqual(cur.PublicKey, key.Public()) && cur.CheckSignatureFrom(a.cfg.Issuer.Cert) == nil &&
		now.Before(cur.NotAfter.Add(-sc.Validity/3)) && sameHosts(cur, sc.Hosts) && currentProfile(cur, sc) {
		if rec, err := a.st.GetCertificate(ctx, SerialHex(cur.SerialNumber)); err == nil && rec.Status == store.StatusGood {
			return cur, key, nil
		}
	}
	org := a.cfg.Issuer.Cert.Subject.Organization[0]
	if sc.Kind == "tls" {
		org = "" // Baseline Requirements: an organizationName needs locality and province (docs/profiles.md)
	}
	subj, err := systemSubject(org, systemName(sc))
	if err != nil {
		return nil, nil, err
	}
	prof := Profile{Name: "system", Validity: sc.Validity, KeyUsage: x509.KeyUsageDigitalSignature}
	if p, ok := a.cfg.Profiles["system"]; ok {
		prof.Policy = p.Policy
	}
	tmpl, shard, err := a.leafTemplate(prof, subj, key.Public(), now)
	if err != nil {
		return nil, nil, err
	}
	if len(prof.Policy) == 0 {
		tmpl.Policies = nil
	}
	switch sc.Kind {
	case "ocsp":
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
		tmpl.OCSPServer = nil // RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck instead
		// nocheck: no status is looked up, so no CRL to point at; and no
		// policy, the signer certifies no one's identity.
		tmpl.CRLDistributionPoints, tmpl.Policies = nil, nil
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkixExt(oidOCSPNoCheck, []byte{5, 0}))
	case "tls":
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range sc.Hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	case "tsa":
		// RFC 3161 §2.3: the one extended key usage timeStamping, critical.
		// crypto/x509 writes extKeyUsage non-critical, so it goes in as a
		// raw extension.
		tmpl.ExtKeyUsage = nil
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
		if err != nil {
			return nil, nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: eku})
	default:
		return nil, nil, fmt.Errorf("ca: unknown system certificate kind %q", sc.Kind)
	}
	prep, err := a.cfg.Issuer.Prepare(tmpl, key.Public())
	if err != nil {
		return nil, nil, err
	}
	cert, err := a.cfg.Issuer.Issue(prep)
	if err != nil {
		return nil, nil, err
	}
	rec := store.Certificate{Serial: SerialHex(cert.SerialNumber), Issuer: a.cfg.Issuer.Name, Profile: "system",
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, DER: cert.Raw, Status: store.StatusGood, CreatedAt: now, CRLShard: shard}
	ev := a.auditEvent(System, "certificate.issue", rec.Serial, fmt.Sprintf(`{"profile":"system","kind":%q}`, sc.Kind))
	if err := a.st.IssueCertificate(ctx, rec, "", now, ev); err != nil {
		return nil, nil, storeErr(err, "certificate")
	}
	a.logAudit(ctx, ev)
	if err := writeCert(sc.CertPath, cert); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// currentProfile reports whether cur has the profile its kind has now:
// an OCSP signer made before it lost its CRL distribution point and
// policies is reissued, and so is a TLS certificate that names an
// organization or lives longer than the validity configured now (one
// made before the Baseline Requirements' 200-day limit).
func currentProfile(cur *x509.Certificate, sc SystemCert) bool {
	switch sc.Kind {
	case "ocsp":
		return len(cur.CRLDistributionPoints) == 0 && len(cur.Policies) == 0
	case "tls":
		return len(cur.Subject.Organization) == 0 && cur.NotAfter.Sub(cur.NotBefore) <= sc.Validity+backdate
	}
	return true
}

func systemName(sc SystemCert) string {
	if sc.Kind == "tls" && len(sc.Hosts) > 0 {
		return sc.Hosts[0]
	}
	if sc.Kind == "tsa" {
		return "Yagona Time-Stamping Authority"
	}
	return "Yagona OCSP Responder"
}

func sameHosts(c *x509.Certificate, hosts []string) bool {
	var have []string
	have = append(have, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		have = append(have, ip.String())
	}
	want := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		want = append(want, h)
	}
	slices.Sort(have)
	slices.Sort(want)
	return slices.Equal(have, want)
}

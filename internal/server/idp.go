package server

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/revocation"
	"github.com/yagona/yagona/pkg/store"
)

// oidcKeys gives the provider P-256 keys through pkg/kms.
type oidcKeys struct{ ks kms.KeyStore }

func (k oidcKeys) Create(uri string) (crypto.Signer, error) {
	return k.ks.Create(uri, string(kms.ECDSAP256))
}
func (k oidcKeys) Load(uri string) (crypto.Signer, error) { return k.ks.Load(uri) }

// passphraseWrapper keeps token-signing keys in the store as encrypted
// PEM (PBES2 under the key passphrase, as key files are), so a key the
// rotation job makes on one replica signs on all of them.
type passphraseWrapper struct{ pass []byte }

func (w passphraseWrapper) NewKey() (crypto.Signer, []byte, error) {
	key, err := kms.GenerateKey(kms.ECDSAP256)
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := kms.EncryptPEM(key, w.pass)
	if err != nil {
		return nil, nil, err
	}
	return key, wrapped, nil
}

func (w passphraseWrapper) Unwrap(b []byte) (crypto.Signer, error) { return kms.DecryptPEM(b, w.pass) }

// newIDP wires the OpenID provider: our own CA as the first trust anchor
// (status read from the store), external anchors from the configuration.
func (a *Server) newIDP(ctx context.Context) error {
	cfg := a.cfg
	secret, err := loadSecret(cfg, a.log, "idp: subject secret", cfg.IDP.SubjectSecretEnv, cfg.IDP.SubjectSecretFile, cfg.IDP.GenerateSubjectSecret)
	if err != nil {
		return err
	}
	anchors := []idp.TrustAnchor{{Name: "yagona", Root: a.hier.Root, Intermediates: []*x509.Certificate{a.hier.Issuing},
		Status: idp.OwnStatus(a.ownStatus)}}
	for _, ea := range cfg.IDP.ExternalAnchors {
		roots, err := readCerts(cfg.DataPath(ea.Root))
		if err != nil || len(roots) != 1 {
			return fmt.Errorf("idp.external_anchors %s: root: want one certificate: %v", ea.Name, err)
		}
		var inter []*x509.Certificate
		for _, f := range ea.Intermediates {
			cs, err := readCerts(cfg.DataPath(f))
			if err != nil {
				return fmt.Errorf("idp.external_anchors %s: %w", ea.Name, err)
			}
			inter = append(inter, cs...)
		}
		anchor := idp.TrustAnchor{Name: ea.Name, Root: roots[0], Intermediates: inter, FailOpen: ea.FailOpen}
		if ea.Status != "none" {
			anchor.Status = idp.OCSPStatus{OCSP: &revocation.OCSP{Cache: a.cache}}
		}
		anchors = append(anchors, anchor)
	}
	pols := map[string]idp.LoginPolicy{}
	for oid, lp := range cfg.IDP.LoginPolicies {
		pols[oid] = idp.LoginPolicy{ACR: lp.ACR, AMR: lp.AMR}
	}
	var proxies []netip.Prefix
	for _, s := range cfg.IDP.TrustedProxies {
		pr, _ := netip.ParsePrefix(s)
		proxies = append(proxies, pr)
	}
	a.idp, err = idp.New(ctx, idp.Config{
		Issuer: strings.TrimSuffix(cfg.PublicURL.HTTPS, "/"), Store: a.store, Cache: a.cache, Keys: oidcKeys{a.ks}, KeyURI: cfg.TokenKeyURI(),
		KeyWrapper: passphraseWrapper{a.ks.Options.Passphrase},
		Certs:      &idp.CertChecker{Anchors: anchors, Policies: pols, MethodCap: cfg.IDP.MethodCap},
		People:     a.store, SubjectSecret: secret, Logger: a.log, Registerer: a.registry, Operators: operator.NewAuthenticator(a.store),
		AgentURL: cfg.IDP.AgentURL, TLSLogin: cfg.IDP.TLSLogin, ForwardedCertHeader: cfg.IDP.ForwardedCertHeader,
		TrustedProxies: proxies, AccessTokenTTL: cfg.IDP.AccessTokenTTL, IDTokenTTL: cfg.IDP.IDTokenTTL,
		RefreshTTL: cfg.IDP.RefreshTTL, SessionTTL: cfg.IDP.SessionTTL, KeyRotation: cfg.IDP.KeyRotation,
		FailuresPerMinute: cfg.IDP.FailuresPerMinute, Roles: operator.NewAuthenticator(a.store),
	})
	if err != nil {
		return err
	}
	return a.idp.EnsureCLIClient(ctx)
}

// ownStatus reads our CA's record of a certificate.
func (a *Server) ownStatus(ctx context.Context, serial *big.Int) (string, error) {
	c, err := a.store.GetCertificate(ctx, ca.SerialHex(serial))
	if errors.Is(err, store.ErrNotFound) {
		return idp.StatusUnknown, nil
	}
	if err != nil {
		return "", err
	}
	if c.Issuer != "issuing" {
		return idp.StatusUnknown, nil
	}
	switch c.Status {
	case store.StatusGood:
		return idp.StatusGood, nil
	case store.StatusHold:
		return idp.StatusHold, nil
	default:
		return idp.StatusRevoked, nil
	}
}

// readCerts reads the certificates of a PEM file.
func readCerts(path string) ([]*x509.Certificate, error) { return certfile.Read(path) }

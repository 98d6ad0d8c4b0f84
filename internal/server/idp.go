package server

import (
	"context"
	"crypto"
	"net/netip"
	"strings"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/kms"
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

// newIDP wires the OpenID provider on the server's trust anchors (our own
// CA first, then the configured external ones).
func (a *Server) newIDP(ctx context.Context) error {
	cfg := a.cfg
	secret, err := loadSecret(cfg, a.log, "idp: subject secret", cfg.IDP.SubjectSecretEnv, cfg.IDP.SubjectSecretFile, cfg.IDP.GenerateSubjectSecret)
	if err != nil {
		return err
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
		Certs:      &idp.CertChecker{Trust: a.trust, Policies: pols, MethodCap: cfg.IDP.MethodCap},
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

package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/store"
)

// oidcKeys gives the provider P-256 keys through pkg/kms.
type oidcKeys struct{ ks keyStore }

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

// newIDP wires the OpenID provider on the app's trust anchors (our own CA
// first, then the configured external ones).
func (a *app) newIDP(ctx context.Context) error {
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
		Issuer: strings.TrimSuffix(cfg.PublicURL.HTTPS, "/"), Store: a.store, Cache: a.cache, Keys: oidcKeys{a.ks}, KeyURI: cfg.tokenKeyURI(),
		KeyWrapper: passphraseWrapper{a.ks.opts.Passphrase},
		Certs:      &idp.CertChecker{Trust: a.trust, Policies: pols, MethodCap: cfg.IDP.MethodCap},
		People:     a.store, SubjectSecret: secret, Logger: a.log, Registerer: a.registry, Admin: a.adminAuth,
		AgentURL: cfg.IDP.AgentURL, TLSLogin: cfg.IDP.TLSLogin, ForwardedCertHeader: cfg.IDP.ForwardedCertHeader,
		TrustedProxies: proxies, AccessTokenTTL: cfg.IDP.AccessTokenTTL, IDTokenTTL: cfg.IDP.IDTokenTTL,
		RefreshTTL: cfg.IDP.RefreshTTL, SessionTTL: cfg.IDP.SessionTTL, KeyRotation: cfg.IDP.KeyRotation,
		FailuresPerMinute: cfg.IDP.FailuresPerMinute, Privileged: a.privileged,
	})
	if err != nil {
		return err
	}
	return a.ensureCLIClient(ctx)
}

// privileged reports whether a person may receive a privileged scope:
// `yagona operator grant` recorded their role.
func (a *app) privileged(ctx context.Context, pinfl, scope string) (bool, error) {
	c, err := a.store.GetCredential(ctx, personCredential(pinfl))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch c.Role {
	case "admin":
		return true, nil
	case "officer":
		return scope == "ca:officer", nil
	}
	return false, nil
}

// cliClient is the public client `yagona login` uses (PKCE, no secret).
const cliClient = "yagona-cli"

func (a *app) ensureCLIClient(ctx context.Context) error {
	if _, err := a.store.GetClient(ctx, cliClient); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, err := a.idp.RegisterClient(ctx, idp.ClientInput{ID: cliClient, Name: "Yagona CLI", RedirectURIs: []string{cliRedirect},
		GrantTypes: []string{idp.GrantCode}, AuthMethod: idp.AuthNone,
		Scopes: []string{"openid", "pinfl", "ca:officer", "ca:admin", "clients:admin"}}, "system")
	if errors.Is(err, idp.ErrClientExists) {
		return nil // another replica registered it first
	}
	return err
}

// cliRedirect is never served: `yagona login` reads the code from the
// redirect the provider answers with.
const cliRedirect = "http://127.0.0.1/yagona-cli/callback"

// adminAuth authorizes the provider's admin API: an operator token (the
// bootstrap credential and those `operator add` makes) or an access token
// with the scope.
func (a *app) adminAuth(r *http.Request, scope string) (string, error) {
	tok, ok := httpjson.Bearer(r)
	if !ok {
		return "", operator.ErrInvalid
	}
	if operator.IsToken(tok) {
		id, err := operator.NewAuthenticator(a.store).Authenticate(r.Context(), tok)
		if err != nil {
			return "", err
		}
		return "admin:" + id, nil
	}
	at, err := a.idp.VerifyAccessToken(r, tok)
	if err != nil {
		return "", fmt.Errorf("%w: %v", operator.ErrInvalid, err)
	}
	if !slices.Contains(at.Scopes, scope) {
		return "", fmt.Errorf("%w: scope %s missing", operator.ErrInvalid, scope)
	}
	return actorOf(at), nil
}

func actorOf(at *idp.AccessToken) string {
	if at.PINFL != "" {
		return "officer:" + at.PINFL
	}
	return "client:" + at.ClientID
}

// officerTokens lets the CA's officer API accept access tokens with the
// ca:officer (or ca:admin) scope.
type officerTokens struct{ a *app }

func (o officerTokens) AuthenticateRequest(r *http.Request, tok string) (string, error) {
	at, err := o.a.idp.VerifyAccessToken(r, tok)
	if err != nil {
		return "", fmt.Errorf("%w: %v", operator.ErrInvalid, err)
	}
	if !slices.Contains(at.Scopes, "ca:officer") && !slices.Contains(at.Scopes, "ca:admin") {
		return "", fmt.Errorf("%w: the token lacks the ca:officer scope", operator.ErrInvalid)
	}
	return actorOf(at), nil
}

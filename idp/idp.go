// Package idp is Yagona's OpenID Connect provider: every government
// service hands login to it, and a person logs in by proving they hold the
// private key of a certificate (a CMS signature over a fresh challenge, or
// a TLS client certificate: login methods behind the seam of package
// idp/login, one package each).
//
// # Protocol
//
// Authorization code flow with PKCE (S256, required for every client),
// pushed authorization requests (RFC 9126), the iss authorization response
// parameter (RFC 9207); the token endpoint with authorization_code,
// refresh_token (rotation with reuse detection that revokes the family)
// and client_credentials; client authentication client_secret_basic,
// private_key_jwt (RFC 7523, jti single use) and tls_client_auth (RFC
// 8705, with certificate-bound access tokens); ID tokens and JWT access
// tokens (RFC 9068); userinfo, introspection (RFC 7662), revocation (RFC
// 7009), RP-initiated and back-channel logout; one metadata document at
// the OpenID discovery and the RFC 8414 well-known paths, built from the
// endpoint table Register serves. docs/oidc.md describes the
// surface for relying parties; docs/login.md the certificate login.
//
// # Files
//
// The Provider's methods are split by role: authorization endpoint and
// PAR (authorize.go, authrequest.go, par.go); token endpoint and grants
// (token.go, tokens.go); sessions and logout (session.go, logout.go);
// userinfo, introspection and revocation (resource.go); signing keys and
// JWTs (keys.go, jwt.go); clients and client authentication (client.go,
// clients.go, clientauth.go); the administration API (admin.go); pages
// (pages.go, consent.go, verify.go); the login page and the host of the
// login methods (login.go, methods.go, ratelimit.go); wiring (idp.go,
// routes.go), cache helpers and the audit trail (state.go), OAuth errors
// (errors.go), metadata (discovery.go) and metrics.
//
// # State
//
// Durable (Store, pkg/store): clients, refresh-token families, signing
// keys, consents. Ephemeral (Cache, pkg/cache, Redis with replicas): login
// requests, challenges, sessions, authorization codes, pushed requests,
// replay guards, revoked access-token IDs and failure counters. Every
// secret (session ID, code, refresh token, login request ID, challenge
// nonce) is stored only as its SHA-256 hash.
package idp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/web"
)

// Store is the durable state the provider needs; pkg/store satisfies it.
type Store interface {
	CreateClient(ctx context.Context, c store.Client) error
	GetClient(ctx context.Context, id string) (store.Client, error)
	ListClients(ctx context.Context) ([]store.Client, error)
	UpdateClient(ctx context.Context, c store.Client) error
	CreateRefreshToken(ctx context.Context, t store.RefreshToken) error
	RotateRefreshToken(ctx context.Context, oldHash []byte, next store.RefreshToken, now time.Time) (store.RefreshToken, error)
	GetRefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error)
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	RevokeSessionRefresh(ctx context.Context, sessionID string, now time.Time) (int, error)
	CreateSigningKey(ctx context.Context, k store.SigningKey) error
	ListSigningKeys(ctx context.Context) ([]store.SigningKey, error)
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	PutConsent(ctx context.Context, c store.Consent) error
	GetConsent(ctx context.Context, subject, clientID string) (store.Consent, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) error
}

// Cache is the ephemeral state the provider needs; pkg/cache satisfies it.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
	Take(ctx context.Context, key string) ([]byte, error)
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
}

// People gives the registry's record of a person (for birthdate).
type People interface {
	GetPerson(ctx context.Context, pinfl string) (store.Person, error)
}

// Config configures a Provider.
type Config struct {
	Issuer string // https://host[:port], no trailing slash: the iss of every token
	Store  Store
	Cache  Cache
	Keys   KeyStore
	KeyURI func(kid string) string // key URI of a new signing key; nil: KeyWrapper, or else file:keys/oidc-<kid>.key
	// KeyWrapper, when KeyURI is nil, makes new signing keys that live in
	// the store, encrypted, so that every replica can load them.
	KeyWrapper    KeyWrapper
	Certs         *CertChecker
	People        People // optional
	SubjectSecret []byte // HMAC key deriving sub; at least 32 bytes, the same on every replica
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	HTTPClient    *http.Client // back-channel logout; nil: a client with a 5 s timeout

	// Login methods (methods.go): the CMS challenge always, the TLS
	// client certificate when TLSLogin, then Methods.
	AgentURL            string         // the local signing agent the login page talks to (CMS challenge)
	TLSLogin            bool           // offer login with a TLS client certificate
	ForwardedCertHeader string         // header a trusted proxy puts the client certificate in (PEM, URL-escaped); empty: none
	TrustedProxies      []netip.Prefix // peers whose forwarded headers are believed
	Methods             []login.Method // further login methods, offered after the built-in ones

	CodeTTL        time.Duration // 60 s
	AccessTokenTTL time.Duration // 10 min
	IDTokenTTL     time.Duration // 10 min
	RefreshTTL     time.Duration // 8 h
	SessionTTL     time.Duration // 8 h
	LoginTTL       time.Duration // 10 min: a login request
	ChallengeTTL   time.Duration // 120 s: a CMS login challenge
	KeyRotation    time.Duration // 30 days
	KeyPublishLead time.Duration // 24 h
	// Roles says who may receive a privileged scope (ca:officer,
	// ca:admin, clients:admin); nil: nobody may. Scopes a person may not
	// have are left out of the grant (the token response's scope says
	// what was granted).
	Roles Roles
	// Operators authenticates operator tokens at the administrator API;
	// nil: the administrator API is off (404).
	Operators Operators
	// FailuresPerMinute caps failed logins and failed client
	// authentications per source address and per client; 0 means 30.
	FailuresPerMinute int
}

// Provider is the OpenID provider. Register its routes with Register.
type Provider struct {
	cfg    Config
	st     Store
	cache  Cache
	log    *slog.Logger
	now    func() time.Time
	ring   keyRing
	pages  *web.Renderer
	issuer *url.URL
	http   *http.Client
	m      metrics
	// clients caches registered clients' records for clientCacheTTL.
	clients sync.Map
	methods []boundMethod
}

// New checks the configuration, creates the first signing key if there is
// none, and returns the provider.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	u, err := checkConfig(&cfg)
	if err != nil {
		return nil, err
	}
	pageSet, err := pages.New()
	if err != nil {
		return nil, fmt.Errorf("idp: pages: %w", err)
	}
	p := &Provider{cfg: cfg, st: cfg.Store, cache: cfg.Cache, log: cfg.Logger, now: cfg.Now, pages: pageSet, issuer: u, http: cfg.HTTPClient}
	if p.methods, err = p.bindMethods(loginMethods(cfg)); err != nil {
		return nil, err
	}
	if err := p.m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	if err := p.rotateKeys(ctx); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if _, _, err := p.signingKey(ctx); err != nil { // load it now, not on the first login
		return nil, fmt.Errorf("idp: %w", err)
	}
	return p, nil
}

// checkConfig checks cfg, fills in its defaults and returns the issuer.
func checkConfig(cfg *Config) (*url.URL, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return nil, fmt.Errorf("idp: issuer %q must be https://host[:port] without a path", cfg.Issuer)
	}
	if cfg.Store == nil || cfg.Cache == nil || cfg.Keys == nil || cfg.Certs == nil {
		return nil, errors.New("idp: store, cache, keys and certificate checker are required")
	}
	if len(cfg.SubjectSecret) < 32 {
		return nil, errors.New("idp: subject secret must be at least 32 bytes")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.CodeTTL, time.Minute)
	def(&cfg.AccessTokenTTL, 10*time.Minute)
	def(&cfg.IDTokenTTL, 10*time.Minute)
	def(&cfg.RefreshTTL, 8*time.Hour)
	def(&cfg.SessionTTL, 8*time.Hour)
	def(&cfg.LoginTTL, 10*time.Minute)
	def(&cfg.ChallengeTTL, 120*time.Second)
	def(&cfg.KeyRotation, 30*24*time.Hour)
	def(&cfg.KeyPublishLead, 24*time.Hour)
	if cfg.FailuresPerMinute <= 0 {
		cfg.FailuresPerMinute = 30
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return u, nil
}

// Package idp is Yagona's OpenID Connect provider: every government
// service hands login to it, and a person logs in by proving they hold the
// private key of a certificate (a CMS signature over a fresh challenge, or
// a TLS client certificate).
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
// 7009), RP-initiated and back-channel logout. docs/oidc.md describes the
// surface for relying parties; docs/login.md the certificate login.
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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/idp/web"
	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/store"
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

	AgentURL            string         // the local signing agent the login page talks to
	TLSLogin            bool           // offer login with a TLS client certificate
	ForwardedCertHeader string         // header a trusted proxy puts the client certificate in (PEM, URL-escaped); empty: none
	TrustedProxies      []netip.Prefix // peers whose forwarded headers are believed

	CodeTTL        time.Duration // 60 s
	AccessTokenTTL time.Duration // 10 min
	IDTokenTTL     time.Duration // 10 min
	RefreshTTL     time.Duration // 8 h
	SessionTTL     time.Duration // 8 h
	LoginTTL       time.Duration // 10 min: a login request
	ChallengeTTL   time.Duration // 120 s
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
}

// New checks the configuration, creates the first signing key if there is
// none, and returns the provider.
func New(ctx context.Context, cfg Config) (*Provider, error) {
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
	pages, err := web.New()
	if err != nil {
		return nil, fmt.Errorf("idp: pages: %w", err)
	}
	p := &Provider{cfg: cfg, st: cfg.Store, cache: cfg.Cache, log: cfg.Logger, now: cfg.Now, pages: pages, issuer: u, http: cfg.HTTPClient}
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

// RotateKeys makes, publishes and retires token-signing keys as due: one
// round of RunKeyRotation, for a job leader to call.
func (p *Provider) RotateKeys(ctx context.Context) {
	if err := p.rotateKeys(ctx); err != nil {
		p.log.ErrorContext(ctx, "token key rotation failed", "err", err)
	}
}

// RunKeyRotation checks the signing keys every interval until ctx ends.
func (p *Provider) RunKeyRotation(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.rotateKeys(ctx); err != nil {
				p.log.ErrorContext(ctx, "token key rotation failed", "err", err)
			}
		}
	}
}

// Endpoint paths.
const (
	pathDiscovery    = "/.well-known/openid-configuration"
	pathJWKS         = "/oauth2/jwks"
	pathAuthorize    = "/oauth2/authorize"
	pathPAR          = "/oauth2/par"
	pathToken        = "/oauth2/token"
	pathUserinfo     = "/oauth2/userinfo"
	pathIntrospect   = "/oauth2/introspect"
	pathRevoke       = "/oauth2/revoke"
	pathLogout       = "/oauth2/logout"
	pathLogin        = "/login"
	pathChallenge    = "/login/challenge"
	pathLoginCert    = "/login/certificate"
	pathLoginTLS     = "/login/tls"
	pathConsent      = "/consent"
	pathAdminClients = "/api/v1/clients"
)

func (p *Provider) url(path string) string { return p.cfg.Issuer + path }

// Register adds the provider's routes to mux.
func (p *Provider) Register(mux *http.ServeMux) {
	cop := http.NewCrossOriginProtection()
	page := func(h http.HandlerFunc) http.Handler {
		return web.SecurityHeaders(cop.Handler(h), agentOrigins(p.cfg.AgentURL))
	}
	api := func(h http.HandlerFunc) http.Handler { return p.m.wrap(h) }
	mux.Handle("GET "+pathDiscovery, api(p.handleDiscovery))
	mux.Handle("GET "+pathJWKS, api(p.handleJWKS))
	mux.Handle("GET "+pathAuthorize, page(p.handleAuthorize))
	mux.Handle("POST "+pathAuthorize, page(p.handleAuthorize))
	mux.Handle("POST "+pathPAR, api(p.handlePAR))
	mux.Handle("POST "+pathToken, api(p.handleToken))
	mux.Handle("GET "+pathUserinfo, api(p.handleUserinfo))
	mux.Handle("POST "+pathUserinfo, api(p.handleUserinfo))
	mux.Handle("POST "+pathIntrospect, api(p.handleIntrospect))
	mux.Handle("POST "+pathRevoke, api(p.handleRevoke))
	mux.Handle("GET "+pathLogout, page(p.handleLogout))
	mux.Handle("POST "+pathLogout, page(p.handleLogout))
	mux.Handle("GET "+pathLogin, page(p.handleLoginPage))
	mux.Handle("POST "+pathChallenge, cop.Handler(http.HandlerFunc(p.handleChallenge)))
	mux.Handle("POST "+pathLoginCert, cop.Handler(http.HandlerFunc(p.handleLoginCertificate)))
	mux.Handle("GET "+pathLoginTLS, page(p.handleLoginTLS))
	mux.Handle("GET "+pathConsent, page(p.handleConsentPage))
	mux.Handle("POST "+pathConsent, page(p.handleConsent))
	mux.Handle("GET /static/", p.pages.Static())
	mux.Handle("POST "+pathAdminClients, api(p.handleAdminCreateClient))
	mux.Handle("GET "+pathAdminClients, api(p.handleAdminListClients))
	mux.Handle("GET "+pathAdminClients+"/{id}", api(p.handleAdminGetClient))
	mux.Handle("DELETE "+pathAdminClients+"/{id}", api(p.handleAdminDisableClient))
}

func agentOrigins(agent string) []string {
	u, err := url.Parse(agent)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// hashKey is the cache key for a secret: prefix and the hex SHA-256.
func hashKey(prefix, secret string) string {
	h := sha256.Sum256([]byte(secret))
	return prefix + hex.EncodeToString(h[:])
}

func (p *Provider) audit(ctx context.Context, actor, action, subject string, details map[string]any) {
	d := ""
	if details != nil {
		b, _ := json.Marshal(details)
		d = string(b)
	}
	if err := p.st.AppendAudit(ctx, store.AuditEvent{Time: p.now(), Actor: actor, Action: action, Subject: subject, Details: d}); err != nil {
		p.log.ErrorContext(ctx, "audit append failed", "action", action, "err", err)
	}
}

// putJSON stores v in the cache under key for ttl.
func (p *Provider) putJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.cache.Set(ctx, key, b, ttl)
}

// getJSON reads key into v; found is false on a miss.
func (p *Provider) getJSON(ctx context.Context, key string, v any) (found bool, err error) {
	return decodeHit(p.cache.Get(ctx, key))(v)
}

// takeJSON removes key and reads it into v; found is false on a miss.
func (p *Provider) takeJSON(ctx context.Context, key string, v any) (found bool, err error) {
	return decodeHit(p.cache.Take(ctx, key))(v)
}

// decodeHit turns a cache answer into a decoder: a miss is found=false.
func decodeHit(b []byte, err error) func(v any) (bool, error) {
	return func(v any) (bool, error) {
		if err != nil {
			if isMiss(err) {
				return false, nil
			}
			return false, err
		}
		return true, json.Unmarshal(b, v)
	}
}

func isMiss(err error) bool { return errors.Is(err, cache.ErrMiss) }

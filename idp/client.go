package idp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/yagona/yagona/pkg/store"
)

// Client authentication methods.
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthTLSClient     = "tls_client_auth"
	AuthNone          = "none" // public (native) clients: PKCE is their only proof
)

// Grant types.
const (
	GrantCode              = "authorization_code"
	GrantRefresh           = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Client is a registered relying party: what the store keeps as the
// client's metadata (JSON), in OAuth Dynamic Client Registration names
// where one exists.
type Client struct {
	ID                     string          `json:"client_id"`
	Name                   string          `json:"client_name"`
	RedirectURIs           []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI   string          `json:"backchannel_logout_uri,omitempty"`
	GrantTypes             []string        `json:"grant_types"`
	Scopes                 []string        `json:"scopes"`
	AuthMethod             string          `json:"token_endpoint_auth_method"`
	SecretHash             []byte          `json:"secret_hash,omitempty"` // SHA-256 of the secret
	JWKS                   json.RawMessage `json:"jwks,omitempty"`        // private_key_jwt
	TLSSubjectDN           string          `json:"tls_client_auth_subject_dn,omitempty"`
	Consent                bool            `json:"consent"`
	SubjectType            string          `json:"subject_type"` // public or pairwise
	SectorIdentifier       string          `json:"sector_identifier,omitempty"`
	Audience               []string        `json:"audience,omitempty"` // extra access-token audiences (resource servers)
	Disabled               bool            `json:"-"`
	CreatedAt              time.Time       `json:"-"`

	keys *jose.JSONWebKeySet
}

// ClientInput is what an administrator registers; the secret, if the
// method needs one, is generated and returned once.
type ClientInput struct {
	ID                     string          `json:"client_id"`
	Name                   string          `json:"client_name"`
	RedirectURIs           []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs []string        `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string          `json:"backchannel_logout_uri"`
	GrantTypes             []string        `json:"grant_types"`
	Scopes                 []string        `json:"scopes"`
	AuthMethod             string          `json:"token_endpoint_auth_method"`
	JWKS                   json.RawMessage `json:"jwks"`
	TLSSubjectDN           string          `json:"tls_client_auth_subject_dn"`
	Consent                bool            `json:"consent"`
	SubjectType            string          `json:"subject_type"`
	SectorIdentifier       string          `json:"sector_identifier"`
	Audience               []string        `json:"audience"`
}

// Scopes the provider knows. Claims behind them: see claims.go.
var knownScopes = []string{"openid", "profile", "pinfl", "organization", "offline_access", "ca:officer", "ca:admin", "clients:admin", "decisions"}

// ErrClient is wrapped by registration errors caused by the input.
var ErrClient = errors.New("invalid client metadata")

// ErrClientExists is wrapped, with ErrClient, when the client id is taken.
var ErrClientExists = errors.New("exists")

func clientErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrClient, fmt.Sprintf(format, args...))
}

// validate checks the input and returns the client to store (without the
// secret hash).
func (in ClientInput) validate() (*Client, error) {
	c := &Client{ID: in.ID, Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.BackchannelLogoutURI, GrantTypes: in.GrantTypes, Scopes: in.Scopes, AuthMethod: in.AuthMethod,
		JWKS: in.JWKS, TLSSubjectDN: in.TLSSubjectDN, Consent: in.Consent, SubjectType: in.SubjectType,
		SectorIdentifier: in.SectorIdentifier, Audience: in.Audience}
	if !validClientID(c.ID) {
		return nil, clientErr("client_id must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 {
		return nil, clientErr("client_name is required (at most 200 bytes)")
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantCode, GrantRefresh}
	}
	for _, g := range c.GrantTypes {
		if g != GrantCode && g != GrantRefresh && g != GrantClientCredentials {
			return nil, clientErr("unknown grant type %q", g)
		}
	}
	if c.has(GrantCode) && len(c.RedirectURIs) == 0 {
		return nil, clientErr("the authorization_code grant needs at least one redirect URI")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, clientErr("redirect URI %q: %v", u, err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, clientErr("post-logout redirect URI %q: %v", u, err)
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkRedirectURI(c.BackchannelLogoutURI); err != nil {
			return nil, clientErr("back-channel logout URI: %v", err)
		}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "pinfl"}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(knownScopes, s) {
			return nil, clientErr("unknown scope %q", s)
		}
	}
	switch c.AuthMethod {
	case "":
		c.AuthMethod = AuthSecretBasic
	case AuthSecretBasic, AuthPrivateKeyJWT, AuthTLSClient:
	case AuthNone:
		if c.has(GrantClientCredentials) {
			return nil, clientErr("a public client cannot use client_credentials")
		}
	default:
		return nil, clientErr("unknown token_endpoint_auth_method %q", c.AuthMethod)
	}
	if c.AuthMethod == AuthPrivateKeyJWT {
		if _, err := parseClientJWKS(c.JWKS); err != nil {
			return nil, clientErr("jwks: %v", err)
		}
	} else if len(c.JWKS) > 0 {
		return nil, clientErr("jwks is only for private_key_jwt")
	}
	if c.AuthMethod == AuthTLSClient {
		if strings.TrimSpace(c.TLSSubjectDN) == "" {
			return nil, clientErr("tls_client_auth needs tls_client_auth_subject_dn")
		}
	} else if c.TLSSubjectDN != "" {
		return nil, clientErr("tls_client_auth_subject_dn is only for tls_client_auth")
	}
	switch c.SubjectType {
	case "":
		c.SubjectType = "public"
	case "public":
	case "pairwise":
		if c.SectorIdentifier == "" {
			hosts := map[string]bool{}
			for _, u := range c.RedirectURIs {
				pu, _ := url.Parse(u)
				hosts[pu.Hostname()] = true
			}
			if len(hosts) != 1 {
				return nil, clientErr("pairwise subjects with redirect URIs on several hosts need sector_identifier")
			}
			for h := range hosts {
				c.SectorIdentifier = h
			}
		}
	default:
		return nil, clientErr("subject_type must be public or pairwise")
	}
	for _, a := range c.Audience {
		if a == "" || len(a) > 200 {
			return nil, clientErr("bad audience %q", a)
		}
	}
	return c, nil
}

func validClientID(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// checkRedirectURI allows absolute https URLs without fragments, and http
// only on loopback (native apps, RFC 8252 §7.3).
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("must not have a fragment")
	}
	if u.User != nil {
		return errors.New("must not have user information")
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if h != "127.0.0.1" && h != "::1" && h != "localhost" {
			return errors.New("http is allowed only on loopback")
		}
	default:
		return errors.New("scheme must be https (or http on loopback)")
	}
	return nil
}

func (c *Client) has(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

func (c *Client) allowsScope(s string) bool { return slices.Contains(c.Scopes, s) }

func parseClientJWKS(raw json.RawMessage) (*jose.JSONWebKeySet, error) {
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("no keys")
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() {
			return nil, errors.New("every key must be a valid public key")
		}
	}
	return &set, nil
}

func decodeClient(rec store.Client) (*Client, error) {
	var c Client
	if err := json.Unmarshal(rec.Metadata, &c); err != nil {
		return nil, fmt.Errorf("client %s: metadata: %w", rec.ID, err)
	}
	c.ID, c.Disabled, c.CreatedAt = rec.ID, rec.Disabled, rec.CreatedAt
	if c.AuthMethod == AuthPrivateKeyJWT {
		k, err := parseClientJWKS(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("client %s: jwks: %w", rec.ID, err)
		}
		c.keys = k
	}
	return &c, nil
}

// newSecret returns a client secret (256 bits, base64url) and its hash.
func newSecret() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	s := "ycs_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(s))
	return s, h[:]
}

func (c *Client) secretMatches(secret string) bool {
	h := sha256.Sum256([]byte(secret))
	return len(c.SecretHash) == sha256.Size && subtle.ConstantTimeCompare(h[:], c.SecretHash) == 1
}

// RegisteredClient is what registration returns: the client and, once,
// its secret.
type RegisteredClient struct {
	Client
	Secret string `json:"client_secret,omitempty"`
}

// RegisterClient validates and stores a client, generating its secret when
// it authenticates with one.
func (p *Provider) RegisterClient(ctx context.Context, in ClientInput, actor string) (*RegisteredClient, error) {
	c, err := in.validate()
	if err != nil {
		return nil, err
	}
	out := &RegisteredClient{}
	if c.AuthMethod == AuthSecretBasic {
		out.Secret, c.SecretHash = newSecret()
	}
	meta, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	now := p.now()
	if err := p.st.CreateClient(ctx, store.Client{ID: c.ID, Metadata: meta, CreatedAt: now, UpdatedAt: now}); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil, fmt.Errorf("%w: client %q %w", ErrClient, c.ID, ErrClientExists)
		}
		return nil, err
	}
	p.clients.Delete(c.ID)
	p.audit(ctx, actor, "client.register", c.ID, map[string]any{"auth_method": c.AuthMethod, "grant_types": c.GrantTypes, "scopes": c.Scopes})
	c.CreatedAt = now
	out.Client = *c
	return out, nil
}

// clientCacheTTL bounds how long a replica keeps using a client record it
// read: a registration change (disabling, say) reaches every replica
// within it.
const clientCacheTTL = 10 * time.Second

type cachedClient struct {
	c       *Client // nil: unknown or disabled
	expires time.Time
}

// client loads an enabled client; nil and no error when it is unknown or
// disabled. Records are kept in process for clientCacheTTL: every login
// and token request reads its client several times.
func (p *Provider) client(ctx context.Context, id string) (*Client, error) {
	if !validClientID(id) {
		return nil, nil
	}
	now := p.now()
	if v, ok := p.clients.Load(id); ok {
		if cc := v.(cachedClient); now.Before(cc.expires) {
			return cc.c, nil
		}
	}
	rec, err := p.st.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // not cached: the map holds registered clients only
	}
	if err != nil {
		return nil, err
	}
	c, err := decodeClient(rec)
	if err != nil {
		return nil, err
	}
	if c.Disabled {
		c = nil
	}
	p.clients.Store(id, cachedClient{c: c, expires: now.Add(clientCacheTTL)})
	return c, nil
}

package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client authentication methods.
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthTLSClient     = "tls_client_auth"
	AuthNone          = "none" // public (native) clients: PKCE is their only proof
	// AuthSecretPost is not registered: a client_secret_basic client
	// may send its secret in the form body instead (clientProves).
	AuthSecretPost = "client_secret_post"
)

// Grant types.
const (
	GrantCode              = "authorization_code"
	GrantRefresh           = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// grantTypes are the grant types the token endpoint serves.
var grantTypes = []string{GrantCode, GrantRefresh, GrantClientCredentials}

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
	for _, check := range clientChecks {
		if err := check(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// clientChecks check a client's metadata in turn, filling in defaults.
var clientChecks = []func(c *Client) error{
	checkClientName, checkGrantTypes, checkClientURIs, checkClientScopes, checkAuthMethod, checkSubjectType, checkAudience,
}

func checkClientName(c *Client) error {
	if !validClientID(c.ID) {
		return clientErr("client_id must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 {
		return clientErr("client_name is required (at most 200 bytes)")
	}
	return nil
}

func checkGrantTypes(c *Client) error {
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantCode, GrantRefresh}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return clientErr("unknown grant type %q", g)
		}
	}
	if c.has(GrantCode) && len(c.RedirectURIs) == 0 {
		return clientErr("the authorization_code grant needs at least one redirect URI")
	}
	return nil
}

func checkClientURIs(c *Client) error {
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return clientErr("redirect URI %q: %v", u, err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return clientErr("post-logout redirect URI %q: %v", u, err)
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := checkRedirectURI(c.BackchannelLogoutURI); err != nil {
			return clientErr("back-channel logout URI: %v", err)
		}
	}
	return nil
}

func checkClientScopes(c *Client) error {
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "pinfl"}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(knownScopes, s) {
			return clientErr("unknown scope %q", s)
		}
	}
	return nil
}

// checkAuthMethod checks the token endpoint authentication method and the
// metadata only it may carry (jwks, the TLS subject).
func checkAuthMethod(c *Client) error {
	switch c.AuthMethod {
	case "":
		c.AuthMethod = AuthSecretBasic
	case AuthSecretBasic, AuthPrivateKeyJWT, AuthTLSClient:
	case AuthNone:
		if c.has(GrantClientCredentials) {
			return clientErr("a public client cannot use client_credentials")
		}
	default:
		return clientErr("unknown token_endpoint_auth_method %q", c.AuthMethod)
	}
	if c.AuthMethod == AuthPrivateKeyJWT {
		if _, err := parseClientJWKS(c.JWKS); err != nil {
			return clientErr("jwks: %v", err)
		}
	} else if len(c.JWKS) > 0 {
		return clientErr("jwks is only for private_key_jwt")
	}
	if c.AuthMethod == AuthTLSClient {
		if strings.TrimSpace(c.TLSSubjectDN) == "" {
			return clientErr("tls_client_auth needs tls_client_auth_subject_dn")
		}
	} else if c.TLSSubjectDN != "" {
		return clientErr("tls_client_auth_subject_dn is only for tls_client_auth")
	}
	return nil
}

// checkSubjectType checks public or pairwise subjects; a pairwise client
// whose redirect URIs share one host gets that host as its sector.
func checkSubjectType(c *Client) error {
	switch c.SubjectType {
	case "":
		c.SubjectType = "public"
	case "public":
	case "pairwise":
		if c.SectorIdentifier != "" {
			return nil
		}
		hosts := map[string]bool{}
		for _, u := range c.RedirectURIs {
			pu, _ := url.Parse(u)
			hosts[pu.Hostname()] = true
		}
		if len(hosts) != 1 {
			return clientErr("pairwise subjects with redirect URIs on several hosts need sector_identifier")
		}
		for h := range hosts {
			c.SectorIdentifier = h
		}
	default:
		return clientErr("subject_type must be public or pairwise")
	}
	return nil
}

func checkAudience(c *Client) error {
	for _, a := range c.Audience {
		if a == "" || len(a) > 200 {
			return clientErr("bad audience %q", a)
		}
	}
	return nil
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

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
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// decodeClient reads a client's record.
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

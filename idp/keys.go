package idp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/yagona/yagona/pkg/store"
)

// KeyStore creates and loads token-signing keys (pkg/kms behind it).
type KeyStore interface {
	// Create makes a new ECDSA P-256 key under uri.
	Create(uri string) (crypto.Signer, error)
	// Load returns the key under uri.
	Load(uri string) (crypto.Signer, error)
}

// KeyWrapper makes token-signing keys that are kept in the store, and
// reads them back: the app encrypts them (PBES2) under the key passphrase
// every replica has.
type KeyWrapper interface {
	// NewKey makes an ECDSA P-256 key and returns it with its encrypted
	// form.
	NewKey() (crypto.Signer, []byte, error)
	// Unwrap decrypts what NewKey returned.
	Unwrap(wrapped []byte) (crypto.Signer, error)
}

// tokenAlg is the JWS algorithm of every token the provider signs.
const tokenAlg = jose.ES256

// keyRing is the provider's set of signing keys as the store lists them,
// reloaded at most every keyReload, so replicas agree within that time.
//
// Rotation (rotateKeys): when the newest key is older than the rotation
// period, a next key is created and published at once but signs only
// from publishLead later, so relying parties that cache the JWKS see it
// before any token carries its kid. A key stops being published
// (RetireAt) once the key after it has signed for longer than the longest
// token lifetime, so every token it signed can still be verified.
type keyRing struct {
	mu       sync.Mutex
	keys     []*ringKey // ordered by ActiveAt
	loadedAt time.Time
}

type ringKey struct {
	rec    store.SigningKey
	pub    *ecdsa.PublicKey
	jwk    jose.JSONWebKey
	signer crypto.Signer // loaded on first use
}

const keyReload = time.Minute

func (p *Provider) ringKeys(ctx context.Context, force bool) ([]*ringKey, error) {
	p.ring.mu.Lock()
	defer p.ring.mu.Unlock()
	now := p.now()
	if !force && p.ring.keys != nil && now.Sub(p.ring.loadedAt) < keyReload && now.After(p.ring.loadedAt) {
		return p.ring.keys, nil
	}
	recs, err := p.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	old := map[string]*ringKey{}
	for _, k := range p.ring.keys {
		old[k.rec.ID] = k
	}
	keys := make([]*ringKey, 0, len(recs))
	for _, rec := range recs {
		if k, ok := old[rec.ID]; ok {
			k.rec = rec
			keys = append(keys, k)
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(rec.Public)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", rec.ID, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s: not ECDSA", rec.ID)
		}
		keys = append(keys, &ringKey{rec: rec, pub: ec,
			jwk: jose.JSONWebKey{Key: ec, KeyID: rec.ID, Algorithm: rec.Algorithm, Use: "sig"}})
	}
	p.ring.keys, p.ring.loadedAt = keys, now
	return keys, nil
}

// RotateKeys makes, publishes and retires token-signing keys as due: one
// round of rotation, for the job leader to call.
func (p *Provider) RotateKeys(ctx context.Context) {
	if err := p.rotateKeys(ctx); err != nil {
		p.log.ErrorContext(ctx, "token key rotation failed", "err", err)
	}
}

// rotateKeys creates the first key, the next key when rotation is due,
// and retires keys no token can need. It is safe to run on every start and
// periodically.
func (p *Provider) rotateKeys(ctx context.Context) error {
	keys, err := p.ringKeys(ctx, true)
	if err != nil {
		return err
	}
	now := p.now()
	changed := false
	if len(keys) == 0 {
		if err := p.createKey(ctx, now); err != nil {
			return err
		}
		changed = true
	} else if newest := keys[len(keys)-1]; !newest.rec.ActiveAt.After(now) && now.Sub(newest.rec.ActiveAt) >= p.cfg.KeyRotation {
		if err := p.createKey(ctx, now.Add(p.cfg.KeyPublishLead)); err != nil {
			return err
		}
		changed = true
	}
	for i := 0; i+1 < len(keys); i++ {
		next := keys[i+1]
		if keys[i].rec.RetireAt.IsZero() && !next.rec.ActiveAt.After(now) {
			at := next.rec.ActiveAt.Add(p.maxTokenTTL() + 5*time.Minute)
			if err := p.st.RetireSigningKey(ctx, keys[i].rec.ID, at); err != nil {
				return err
			}
			changed = true
		}
	}
	if changed {
		_, err = p.ringKeys(ctx, true)
	}
	return err
}

func (p *Provider) maxTokenTTL() time.Duration {
	return max(p.cfg.AccessTokenTTL, p.cfg.IDTokenTTL)
}

func (p *Provider) createKey(ctx context.Context, activeAt time.Time) error {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	kid := base64.RawURLEncoding.EncodeToString(b)
	var (
		uri     = "file:keys/oidc-" + kid + ".key"
		signer  crypto.Signer
		wrapped []byte
		err     error
	)
	switch {
	case p.cfg.KeyURI != nil:
		uri = p.cfg.KeyURI(kid)
		signer, err = p.cfg.Keys.Create(uri)
	case p.cfg.KeyWrapper != nil:
		uri = "db:oidc-" + kid
		signer, wrapped, err = p.cfg.KeyWrapper.NewKey()
	default:
		signer, err = p.cfg.Keys.Create(uri)
	}
	if err != nil {
		return fmt.Errorf("token signing key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return err
	}
	rec := store.SigningKey{ID: kid, Algorithm: string(tokenAlg), KeyURI: uri, Public: spki, CreatedAt: p.now(), ActiveAt: activeAt, Wrapped: wrapped}
	if err := p.st.CreateSigningKey(ctx, rec); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "token signing key created", "kid", kid, "active_at", activeAt)
	return nil
}

// signingKey returns the key that signs now: the newest whose ActiveAt
// has passed.
func (p *Provider) signingKey(ctx context.Context) (*ringKey, crypto.Signer, error) {
	keys, err := p.ringKeys(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	now := p.now()
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if k.rec.ActiveAt.After(now) || (!k.rec.RetireAt.IsZero() && !k.rec.RetireAt.After(now)) {
			continue
		}
		// Loading decrypts the key file (PBKDF2, deliberately slow): one
		// caller loads under the lock, the others wait and reuse it.
		p.ring.mu.Lock()
		defer p.ring.mu.Unlock()
		if k.signer == nil {
			s, err := p.loadKey(k.rec)
			if err != nil {
				return nil, nil, fmt.Errorf("token signing key %s: %w", k.rec.ID, err)
			}
			k.signer = s
		}
		return k, k.signer, nil
	}
	return nil, nil, errors.New("no active token signing key")
}

// loadKey loads a signing key from the store (wrapped) or its URI, and
// checks it is the key the store's public key says.
func (p *Provider) loadKey(rec store.SigningKey) (crypto.Signer, error) {
	var s crypto.Signer
	var err error
	if len(rec.Wrapped) > 0 {
		if p.cfg.KeyWrapper == nil {
			return nil, errors.New("the key is kept in the store, but no key wrapper is configured")
		}
		s, err = p.cfg.KeyWrapper.Unwrap(rec.Wrapped)
	} else {
		s, err = p.cfg.Keys.Load(rec.KeyURI)
	}
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil || !bytes.Equal(spki, rec.Public) {
		return nil, errors.New("the key does not match its recorded public key")
	}
	return s, nil
}

// published returns the keys in the JWKS: not retired.
func (p *Provider) published(ctx context.Context) ([]*ringKey, error) {
	keys, err := p.ringKeys(ctx, false)
	if err != nil {
		return nil, err
	}
	now := p.now()
	out := make([]*ringKey, 0, len(keys))
	for _, k := range keys {
		if k.rec.RetireAt.IsZero() || k.rec.RetireAt.After(now) {
			out = append(out, k)
		}
	}
	return out, nil
}

// jwks is the public JWK Set.
func (p *Provider) jwks(ctx context.Context) (*jose.JSONWebKeySet, error) {
	keys, err := p.published(ctx)
	if err != nil {
		return nil, err
	}
	set := &jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk)
	}
	return set, nil
}

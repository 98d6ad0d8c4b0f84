// Package operator manages operator credentials: bearer tokens that
// authenticate registration officers and administrators to the API until
// the identity provider issues OAuth access tokens for them.
//
// A token is "yop_<id>_<secret>", where the secret is 256 random bits. Only
// SHA-256 of the secret is stored (a fast hash suffices for a random
// secret of that length), and it is compared in constant time.
package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// ErrInvalid means the token is malformed, unknown or wrong. Callers see
// no difference between those cases.
var ErrInvalid = errors.New("operator: invalid token")

// Store is what operator credentials need from the durable store.
type Store interface {
	CreateCredential(ctx context.Context, c store.Credential) error
	GetCredential(ctx context.Context, id string) (store.Credential, error)
}

// Authenticator checks tokens against the store.
type Authenticator struct {
	st Store
}

// NewAuthenticator returns an Authenticator over st.
func NewAuthenticator(st Store) *Authenticator { return &Authenticator{st: st} }

const prefix = "yop_"

// Authenticate returns the credential id of a valid token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (string, error) {
	id, secret, ok := split(token)
	if !ok {
		return "", ErrInvalid
	}
	c, err := a.st.GetCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrInvalid
	}
	if err != nil {
		return "", fmt.Errorf("operator: %w", err)
	}
	h := hash(secret)
	if subtle.ConstantTimeCompare(h[:], c.Hash) != 1 {
		return "", ErrInvalid
	}
	return c.ID, nil
}

// IsToken reports whether token has the form of an operator token (it
// says nothing of its validity), so callers can tell it from an OAuth
// access token.
func IsToken(token string) bool { return strings.HasPrefix(token, prefix) }

func split(token string) (id, secret string, ok bool) {
	if len(token) > 200 || !strings.HasPrefix(token, prefix) {
		return "", "", false
	}
	id, secret, ok = strings.Cut(token[len(prefix):], "_")
	return id, secret, ok && id != "" && len(secret) >= 32
}

func hash(secret string) [32]byte {
	return sha256.Sum256([]byte("yagona operator token v1\x00" + secret))
}

// Create makes a credential with a fresh secret and returns its token.
func Create(ctx context.Context, st Store, id, role string, now time.Time) (string, error) {
	if id == "" || strings.ContainsAny(id, "_ ") {
		return "", fmt.Errorf("operator: id %q must be non-empty without '_' or spaces", id)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("operator: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	h := hash(secret)
	if err := st.CreateCredential(ctx, store.Credential{ID: id, Role: role, Hash: h[:], CreatedAt: now}); err != nil {
		return "", fmt.Errorf("operator: create %s: %w", id, err)
	}
	return prefix + id + "_" + secret, nil
}

// Bootstrap creates the first administrator credential if it does not exist
// and writes its token to path, readable by the owner only. It reports
// whether it created one. If the credential exists but the file is gone the
// token cannot be recovered; the operator creates a new credential.
func Bootstrap(ctx context.Context, st Store, path string, now time.Time) (bool, error) {
	_, err := st.GetCredential(ctx, "admin")
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("operator: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("operator: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return false, fmt.Errorf("operator: %w", err)
	}
	defer f.Close()
	tok, err := Create(ctx, st, "admin", "admin", now)
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		return false, fmt.Errorf("operator: write token: %w", err)
	}
	return true, f.Close()
}

// PersonCredential is the credential id recording a person's role. It
// has no secret: it cannot be used as an operator token.
func PersonCredential(pinfl string) string { return "pinfl:" + pinfl }

// PersonRole returns the role Grant recorded for a person ("officer",
// "admin"), or "" if none.
func (a *Authenticator) PersonRole(ctx context.Context, pinfl string) (string, error) {
	c, err := a.st.GetCredential(ctx, PersonCredential(pinfl))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("operator: %w", err)
	}
	return c.Role, nil
}

// GrantStore is what Grant needs: the credentials and the audit trail.
type GrantStore interface {
	Store
	AppendAudit(ctx context.Context, e store.AuditEvent) error
}

// Grant records that a person (by PINFL) holds role, "officer" or
// "admin", so that they receive its scopes when they log in with their
// own certificate; the audit trail says the host did it.
func Grant(ctx context.Context, st GrantStore, pinfl, role string, now time.Time) error {
	if role != "officer" && role != "admin" {
		return fmt.Errorf("operator: role %q is not officer or admin", role)
	}
	if err := st.CreateCredential(ctx, store.Credential{ID: PersonCredential(pinfl), Role: role, Hash: []byte{}, CreatedAt: now}); err != nil {
		return fmt.Errorf("operator: grant %s: %w", pinfl, err)
	}
	_ = st.AppendAudit(ctx, store.AuditEvent{Time: now, Actor: "host", Action: "operator.grant", Subject: pinfl, Details: `{"role":"` + role + `"}`})
	return nil
}

// ReadToken reads a token written by Bootstrap.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("operator: read token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

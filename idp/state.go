package idp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/store"
)

// hashKey is the cache key for a secret: prefix and the hex SHA-256.
func hashKey(prefix, secret string) string {
	h := sha256.Sum256([]byte(secret))
	return prefix + hex.EncodeToString(h[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
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

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

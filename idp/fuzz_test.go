package idp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/yagona/yagona/pkg/cache"
)

// FuzzClientAssertion drives the inbound JWT path (private_key_jwt): no
// input panics it, and only a JWT signed by the registered key passes.
func FuzzClientAssertion(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "ES256"}}})
	set, err := parseClientJWKS(raw)
	if err != nil {
		f.Fatal(err)
	}
	c := &Client{ID: "fuzz-client", AuthMethod: AuthPrivateKeyJWT, keys: set}
	p := &Provider{cfg: Config{Issuer: "https://id.example.uz"}, cache: cache.NewMemory(time.Now), now: time.Now}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(assertion(f, other, "k1", "fuzz-client", "https://id.example.uz", "j1", time.Minute))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJmdXp6LWNsaWVudCJ9.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		_, _ = assertionIssuer(tok)
		if err := p.checkAssertion(context.Background(), c, tok, pathToken); err == nil {
			t.Fatalf("an assertion not signed by the registered key passed: %q", tok)
		}
	})
}

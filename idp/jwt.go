package idp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// opaque adapts a crypto.Signer (a pkg/kms key, possibly on an HSM) to
// go-jose: it hashes the signing input and turns the ASN.1 ECDSA signature
// into JWS's fixed-width r||s.
type opaque struct {
	k *ringKey
	s crypto.Signer
}

func (o opaque) Public() *jose.JSONWebKey        { j := o.k.jwk; return &j }
func (o opaque) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{tokenAlg} }
func (o opaque) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != tokenAlg {
		return nil, fmt.Errorf("unsupported algorithm %s", alg)
	}
	d := sha256.Sum256(payload)
	der, err := o.s.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var r, s big.Int
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("malformed ECDSA signature from key")
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// signJWT signs claims as a compact JWS with the current key and the
// given typ header.
func (p *Provider) signJWT(ctx context.Context, typ string, claims any) (string, error) {
	k, s, err := p.signingKey(ctx)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), k.rec.ID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tokenAlg, Key: opaque{k, s}}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// verifyJWT checks a token the provider signed (any published key) and
// its typ header, and returns the payload. Time claims are the caller's.
func (p *Provider) verifyJWT(ctx context.Context, token, typ string) ([]byte, error) {
	if len(token) > maxTokenSize {
		return nil, errors.New("token too large")
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{tokenAlg})
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("one signature expected")
	}
	h := jws.Signatures[0].Protected
	if t, _ := h.ExtraHeaders[jose.HeaderType].(string); t != typ {
		return nil, fmt.Errorf("typ %q, want %q", t, typ)
	}
	keys, err := p.published(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.rec.ID == h.KeyID {
			return jws.Verify(k.pub)
		}
	}
	return nil, errors.New("unknown key id")
}

const maxTokenSize = 16 << 10

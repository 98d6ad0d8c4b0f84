package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/statement"
)

// Level is a CAdES baseline level (ETSI EN 319 122-1 §6).
type Level string

// The levels Signer makes.
const (
	LevelB  Level = "B-B"  // the signature alone
	LevelT  Level = "B-T"  // and a signature time-stamp
	LevelLT Level = "B-LT" // and revocation data for the signer's and the TSA's paths
)

// ParseLevel reads "B-B", "B-T" or "B-LT".
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case LevelB, LevelT, LevelLT:
		return l, nil
	}
	return "", fmt.Errorf("cades: level %q is not B-B, B-T or B-LT", s)
}

// ErrNotSignatureOf is a signature to co-sign that does not verify over
// the document, detached or attached.
var ErrNotSignatureOf = errors.New("cades: not a valid signature of the document")

// ErrLoginStatement is content that is a login statement
// (statement.IsLoginStatement): a login is proved with the text the
// identity provider issues, never signed as a document, so that a
// document signature can never log anyone in.
var ErrLoginStatement = errors.New("cades: this is a login statement, not a document: refusing to sign it as one")

// Signer makes CAdES signatures with one person's key.
type Signer struct {
	Client                     // fetches time-stamps and OCSP responses
	Chain  []*x509.Certificate // the signer's certificate, then its issuing chain
	Key    crypto.Signer       // the certificate's key
	PSS    bool                // RSA keys: RSASSA-PSS instead of PKCS#1 v1.5
	TSA    string              // B-T and B-LT: the time-stamping authority's URL
	Roots  []*x509.Certificate // B-LT: the anchors the chains must validate to before revocation data is fetched
	Now    func() time.Time    // the signing time; nil: time.Now
}

func (s Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Sign signs doc at level, detached (the signature does not carry doc)
// or attached. It refuses a doc that is a login statement
// (ErrLoginStatement).
func (s Signer) Sign(ctx context.Context, doc []byte, detached bool, level Level) ([]byte, error) {
	if statement.IsLoginStatement(doc) {
		return nil, ErrLoginStatement
	}
	sign := cms.Sign
	if s.PSS {
		sign = cms.SignPSS
	}
	sig, err := sign(doc, s.Chain[0], s.Chain[1:], s.Key, detached, s.now())
	if err != nil {
		return nil, err
	}
	if level == LevelB {
		return sig, nil
	}
	if sig, err = s.AddTimestamp(ctx, s.TSA, sig, detachedContent(doc, detached)); err != nil || level == LevelT {
		return sig, err
	}
	if sig, err = s.AddRevocation(ctx, sig, detachedContent(doc, detached), s.Chain, s.Roots); err != nil {
		return nil, fmt.Errorf("cades: B-LT: %w", err)
	}
	return sig, nil
}

// Cosign adds a signature at level (B-B or B-T) to prev, a signature of
// doc, detached or attached as prev is; every earlier signature is kept
// byte for byte, and the combined signature must verify. Like Sign, it
// refuses a doc that is a login statement.
func (s Signer) Cosign(ctx context.Context, doc, prev []byte, level Level) ([]byte, error) {
	if level == LevelLT {
		return nil, errors.New("cades: a co-signature is made at B-B or B-T")
	}
	if statement.IsLoginStatement(doc) {
		return nil, ErrLoginStatement
	}
	detached := true
	if _, err := cms.Verify(prev, doc); err != nil {
		p, err2 := cms.Verify(prev, nil)
		if err2 != nil || !bytes.Equal(p.Content, doc) {
			return nil, fmt.Errorf("%w: %w", ErrNotSignatureOf, err)
		}
		detached = false
	}
	mine, err := s.Sign(ctx, doc, detached, level)
	if err != nil {
		return nil, err
	}
	combined, err := cms.Combine(prev, mine)
	if err != nil {
		return nil, err
	}
	if _, err := cms.Verify(combined, detachedContent(doc, detached)); err != nil {
		return nil, fmt.Errorf("cades: the combined signature does not verify: %w", err)
	}
	return combined, nil
}

func detachedContent(doc []byte, detached bool) []byte {
	if detached {
		return doc
	}
	return nil
}

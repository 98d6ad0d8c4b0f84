// Package cades raises CMS signatures (pkg/cms) along the CAdES baseline
// levels of ETSI EN 319 122-1: B-T adds a signature time-stamp, an RFC 3161
// token over the signer's signature value from a time-stamping authority;
// B-LT adds the revocation data a verifier needs once the certificates'
// status can no longer be asked: for every certificate on the signer's
// path and on the time-stamping authority's path, an OCSP response (RFC
// 6960, carried as RFC 5940 other revocation information) or a CRL, as
// each certificate names (AddRevocation).
//
// The data is fetched over HTTP (RFC 3161 §3.4, RFC 6960 Appendix A) with
// a timeout and a size limit, and checked before it goes into a
// signature: the time-stamp must answer our digest with our nonce; a
// responder or distribution point is asked only after the chain of the
// certificate that names it validates, and its answer must be signed for
// the certificate and say good.
package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

// Size limits of the answers read.
const (
	maxTimestampResponse = 1 << 20
	maxOCSPResponse      = 64 << 10
)

// Errors a caller may branch on.
var (
	// ErrForeignTimestamp is a TSA answer for another digest or nonce.
	ErrForeignTimestamp = errors.New("cades: the TSA answered for another request")
	// ErrNotGood is an OCSP answer or CRL that says other than good.
	ErrNotGood = errors.New("cades: the certificate's status is not good")
)

// Client fetches time-stamps and OCSP responses. The zero value uses an
// HTTP client with a 15-second timeout.
type Client struct {
	HTTP *http.Client
	// Now is the time the signer's chain is validated at; nil: time.Now.
	Now func() time.Time
}

func (c Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// AddTimestamp returns sig with a signature time-stamp from the TSA at
// tsaURL on its first signer (B-T). detached is the content of a
// detached signature, nil for an attached one.
func (c Client) AddTimestamp(ctx context.Context, tsaURL string, sig, detached []byte) ([]byte, error) {
	parsed, err := cms.Parse(sig, detached)
	if err != nil {
		return nil, err
	}
	tok, err := c.Timestamp(ctx, tsaURL, parsed.Signers[0].Signature)
	if err != nil {
		return nil, fmt.Errorf("time-stamp: %w", err)
	}
	return cms.AddTimestamp(sig, 0, tok)
}

// Timestamp asks the RFC 3161 TSA at tsaURL for a token over data's
// SHA-256 and checks the answer is for it, with our nonce. It returns the
// DER time-stamp token.
func (c Client) Timestamp(ctx context.Context, tsaURL string, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: nonce, Certificates: true}).Marshal()
	if err != nil {
		return nil, err
	}
	body, err := c.post(ctx, tsaURL, "application/timestamp-query", req, maxTimestampResponse)
	if err != nil {
		return nil, fmt.Errorf("cades: TSA: %w", err)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("cades: TSA answer: %w", err)
	}
	if !bytes.Equal(ts.HashedMessage, sum[:]) || ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, ErrForeignTimestamp
	}
	var r struct {
		Status asn1.RawValue
		Token  asn1.RawValue
	}
	if _, err := asn1.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("cades: TSA answer: %w", err)
	}
	return r.Token.FullBytes, nil
}

// AddOCSP returns sig with the OCSP response for its signer's certificate
// (B-LT); see SignerOCSP.
func (c Client) AddOCSP(ctx context.Context, sig []byte, chain, roots []*x509.Certificate) ([]byte, error) {
	resp, err := c.SignerOCSP(ctx, chain, roots)
	if err != nil {
		return nil, err
	}
	return cms.AddOCSPResponses(sig, resp)
}

// SignerOCSP validates chain (the signer's certificate, then its issuer
// and any further intermediates) against roots, then asks the OCSP
// responder the certificate names, only after that validation, and
// returns the DER response if it is signed for the certificate and says
// good.
func (c Client) SignerOCSP(ctx context.Context, chain, roots []*x509.Certificate) ([]byte, error) {
	if len(chain) < 2 {
		return nil, errors.New("cades: the chain must hold the issuing CA after the certificate")
	}
	tv, err := verifierFor(roots)
	if err != nil {
		return nil, err
	}
	if _, err := tv.Verify(chain[0], chain[1:], trust.DocumentSignature, c.now()); err != nil {
		return nil, fmt.Errorf("cades: the certificate does not chain to the trust anchor: %w", err)
	}
	if len(chain[0].OCSPServer) == 0 {
		return nil, errors.New("cades: the certificate names no OCSP responder")
	}
	resp, err := c.ocspFor(ctx, chain[0], chain[1])
	if err != nil {
		return nil, fmt.Errorf("cades: %w", err)
	}
	return resp, nil
}

// post sends body to url and returns the answer, at most limit bytes,
// of a 200 response.
func (c Client) post(ctx context.Context, url, contentType string, body []byte, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req, limit)
}

// do sends req and returns the answer, at most limit bytes, of a 200
// response.
func (c Client) do(req *http.Request, limit int64) ([]byte, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

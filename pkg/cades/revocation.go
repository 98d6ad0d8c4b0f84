package cades

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

// maxCRL is the size limit of a CRL read for a signature.
const maxCRL = 8 << 20

// ErrNoTimestamp is a signature to complete (B-LT) whose first signer
// carries no signature time-stamp.
var ErrNoTimestamp = errors.New("cades: the signature has no time-stamp")

// revocationData is what B-LT adds: CRLs and OCSP responses.
type revocationData struct {
	crls, responses [][]byte
	seen            map[[32]byte]bool // the certificates already answered for
}

// AddRevocation returns sig, a B-T signature (detached: its content; nil
// for an attached one), with the revocation data for every certificate on
// its first signer's path and on its time-stamping authority's path
// (B-LT): for each certificate below the anchor, an OCSP response when it
// names a responder, else the CRL of its first distribution point; a
// certificate that names neither is left without. The signer's
// certificate must name a responder. Each path is validated against roots
// (the signer's for a document signature, the TSA's for time-stamping)
// before anything it names is fetched, and every answer must be signed by
// the certificate's issuer (or its delegated responder) and say good.
func (c Client) AddRevocation(ctx context.Context, sig, detached []byte, chain, roots []*x509.Certificate) ([]byte, error) {
	if len(chain) < 2 {
		return nil, errors.New("cades: the chain must hold the issuing CA after the certificate")
	}
	if len(chain[0].OCSPServer) == 0 {
		return nil, errors.New("cades: the certificate names no OCSP responder")
	}
	tv, err := verifierFor(roots)
	if err != nil {
		return nil, err
	}
	now := c.now()
	signer, err := tv.Verify(chain[0], chain[1:], trust.DocumentSignature, now)
	if err != nil {
		return nil, fmt.Errorf("cades: the certificate does not chain to the trust anchor: %w", err)
	}
	tsa, err := tsaChain(tv, sig, detached, now)
	if err != nil {
		return nil, err
	}
	data := &revocationData{seen: map[[32]byte]bool{}}
	for _, ch := range []trust.Chain{signer, tsa} {
		if err := c.collect(ctx, data, ch, now); err != nil {
			return nil, err
		}
	}
	return cms.AddRevocationInfo(sig, data.crls, data.responses)
}

// tsaChain validates the chain of the first signer's first signature
// time-stamp's TSA for time-stamping.
func tsaChain(tv *trust.Verifier, sig, detached []byte, now time.Time) (trust.Chain, error) {
	parsed, err := cms.Parse(sig, detached)
	if err != nil {
		return trust.Chain{}, err
	}
	if len(parsed.Signers) == 0 || len(parsed.Signers[0].Timestamps) == 0 {
		return trust.Chain{}, ErrNoTimestamp
	}
	tok, err := cms.Verify(parsed.Signers[0].Timestamps[0], nil)
	if err != nil || len(tok.Signers) != 1 || tok.Signers[0].Certificate == nil {
		return trust.Chain{}, fmt.Errorf("cades: the time-stamp token does not verify: %w", err)
	}
	ch, err := tv.Verify(tok.Signers[0].Certificate, tok.Certificates, trust.Timestamp, now)
	if err != nil {
		return trust.Chain{}, fmt.Errorf("cades: the TSA does not chain to the trust anchor: %w", err)
	}
	return ch, nil
}

// collect adds the revocation data of every certificate of ch below its
// anchor's root that data holds nothing for yet.
func (c Client) collect(ctx context.Context, data *revocationData, ch trust.Chain, now time.Time) error {
	for i := 0; i+1 < len(ch.Certs); i++ {
		cert, issuer := ch.Certs[i], ch.Certs[i+1]
		key := sha256.Sum256(cert.Raw)
		if data.seen[key] {
			continue
		}
		data.seen[key] = true
		switch {
		case len(cert.OCSPServer) > 0:
			resp, err := c.ocspFor(ctx, cert, issuer)
			if err != nil {
				return fmt.Errorf("cades: %s: %w", cert.Subject.CommonName, err)
			}
			data.responses = append(data.responses, resp)
		case len(cert.CRLDistributionPoints) > 0:
			crl, err := c.crlFor(ctx, cert, issuer, now)
			if err != nil {
				return fmt.Errorf("cades: %s: %w", cert.Subject.CommonName, err)
			}
			data.crls = append(data.crls, crl)
		}
	}
	return nil
}

// ocspFor asks the responder cert names and returns the DER response if
// it is signed for cert and says good.
func (c Client) ocspFor(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, err
	}
	body, err := c.post(ctx, cert.OCSPServer[0], "application/ocsp-request", req, maxOCSPResponse)
	if err != nil {
		return nil, fmt.Errorf("OCSP: %w", err)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("OCSP answer: %w", err)
	}
	if r.Status != ocsp.Good {
		return nil, ErrNotGood
	}
	return body, nil
}

// crlFor fetches the CRL of cert's first HTTP distribution point and
// returns it if it is the issuer's, current, covers cert and does not
// list it.
func (c Client) crlFor(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) ([]byte, error) {
	var body []byte
	var err error = errors.New("no HTTP distribution point")
	for _, dp := range cert.CRLDistributionPoints {
		if u, perr := url.Parse(dp); perr == nil && (u.Scheme == "http" || u.Scheme == "https") {
			body, err = c.get(ctx, dp, maxCRL)
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("CRL: %w", err)
	}
	st, err := trust.EmbeddedCRL{CRLs: [][]byte{body}, NotBefore: now}.Status(ctx, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("CRL: not the issuer's current CRL for the certificate: %w", err)
	}
	if st.State != trust.Good {
		return nil, fmt.Errorf("%w (CRL: %s)", ErrNotGood, st.State)
	}
	return body, nil
}

// get fetches url and returns the answer, at most limit bytes, of a 200
// response.
func (c Client) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, limit)
}

func (c Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// verifierFor makes a trust verifier with roots as anchors.
func verifierFor(roots []*x509.Certificate) (*trust.Verifier, error) {
	tv, err := trust.VerifierFrom(roots, func(i int, r *x509.Certificate) string {
		return fmt.Sprintf("anchor-%d: %s", i+1, r.Subject.CommonName)
	})
	if err != nil {
		return nil, fmt.Errorf("cades: trust anchor: %w", err)
	}
	return tv, nil
}

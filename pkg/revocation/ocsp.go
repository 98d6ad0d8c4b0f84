// Package revocation learns the status of certificates from other
// certificate authorities, over OCSP (RFC 6960), with answers cached until
// their nextUpdate.
//
// The caller must have validated the certificate's chain before asking:
// the responder URL is taken from the certificate's Authority Information
// Access, and nothing is fetched for a certificate whose chain was not
// validated (Yagona never fetches a URL from an unvalidated certificate).
// Our own CA's status is read from its records, not through here.
package revocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Statuses, as the identity provider names them.
const (
	Good    = "good"
	Revoked = "revoked"
	Unknown = "unknown"
)

// ErrUnavailable wraps every failure to learn a status: no responder URL,
// the responder unreachable or erring, an answer that does not verify or is
// stale. Callers decide whether that fails closed.
var ErrUnavailable = errors.New("revocation: status unavailable")

// Cache keeps answers; pkg/cache satisfies it.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// OCSP asks certificates' OCSP responders.
type OCSP struct {
	HTTP     *http.Client     // nil: 5 s timeout, no redirects
	Cache    Cache            // nil: no caching
	Now      func() time.Time // nil: time.Now
	MaxAge   time.Duration    // longest time an answer is cached; 0: 1 h
	MaxBytes int64            // largest response read; 0: 64 KiB
}

// Result is a verified answer.
type Result struct {
	Status    string    // Good, Revoked or Unknown
	RevokedAt time.Time // when Revoked
}

// Status returns Good, Revoked or Unknown for cert, issued by issuer, or
// an error wrapping ErrUnavailable.
func (o *OCSP) Status(ctx context.Context, cert, issuer *x509.Certificate) (string, error) {
	r, err := o.Check(ctx, cert, issuer)
	return r.Status, err
}

// Check is Status with the revocation time.
func (o *OCSP) Check(ctx context.Context, cert, issuer *x509.Certificate) (Result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	key := cacheKey(cert, issuer)
	if o.Cache != nil {
		if b, err := o.Cache.Get(ctx, key); err == nil && len(b) > 0 {
			return decodeResult(b), nil
		}
	}
	var target string
	for _, u := range cert.OCSPServer {
		if pu, err := url.Parse(u); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "" {
			target = u
			break
		}
	}
	if target == "" {
		return Result{}, fmt.Errorf("%w: the certificate names no OCSP responder", ErrUnavailable)
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(req))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := client.Do(hreq)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	limit := o.MaxBytes
	if limit == 0 {
		limit = 64 << 10
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil || int64(len(body)) > limit || resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("%w: responder answered %d (%d bytes)", ErrUnavailable, resp.StatusCode, len(body))
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	t := now()
	if r.ThisUpdate.After(t.Add(5*time.Minute)) || (!r.NextUpdate.IsZero() && !r.NextUpdate.After(t)) {
		return Result{}, fmt.Errorf("%w: stale or future answer (thisUpdate %v, nextUpdate %v)", ErrUnavailable, r.ThisUpdate, r.NextUpdate)
	}
	var st string
	var revokedAt time.Time
	switch r.Status {
	case ocsp.Good:
		st = Good
	case ocsp.Revoked:
		st, revokedAt = Revoked, r.RevokedAt.UTC()
	default:
		st = Unknown
	}
	if o.Cache != nil {
		maxAge := o.MaxAge
		if maxAge == 0 {
			maxAge = time.Hour
		}
		ttl := maxAge
		if !r.NextUpdate.IsZero() && r.NextUpdate.Sub(t) < ttl {
			ttl = r.NextUpdate.Sub(t)
		}
		if ttl > time.Second {
			_ = o.Cache.Set(ctx, key, encodeResult(Result{st, revokedAt}), ttl)
		}
	}
	return Result{Status: st, RevokedAt: revokedAt}, nil
}

func encodeResult(r Result) []byte {
	if r.RevokedAt.IsZero() {
		return []byte(r.Status)
	}
	return []byte(r.Status + " " + r.RevokedAt.Format(time.RFC3339Nano))
}

func decodeResult(b []byte) Result {
	st, at, _ := strings.Cut(string(b), " ")
	r := Result{Status: st}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		r.RevokedAt = t
	}
	return r
}

func cacheKey(cert, issuer *x509.Certificate) string {
	h := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return "revoc:ocsp:" + hex.EncodeToString(h[:12]) + ":" + cert.SerialNumber.Text(16)
}

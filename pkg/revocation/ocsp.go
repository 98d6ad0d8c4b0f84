// Package revocation learns the status of certificates from other
// certificate authorities, over OCSP (RFC 6960), with answers cached until
// their nextUpdate.
//
// The caller must have validated the certificate's chain before asking:
// the responder URL is taken from the certificate's Authority Information
// Access, and nothing is fetched for a certificate whose chain was not
// validated (Yagona never fetches a URL from an unvalidated certificate).
// Our own CA's status is read from its records, not through here.
//
// OCSP satisfies trust.StatusSource: the answer is a trust.Status (a
// revocation with reason certificateHold is a suspension), with source
// "ocsp".
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
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/trust"
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

// Status implements trust.StatusSource: the status of cert, issued by
// issuer, from the responder cert names (or the cache), or an error
// wrapping ErrUnavailable.
func (o *OCSP) Status(ctx context.Context, cert, issuer *x509.Certificate) (trust.Status, error) {
	key := cacheKey(cert, issuer)
	if o.Cache != nil {
		if b, err := o.Cache.Get(ctx, key); err == nil {
			if st, ok := decodeStatus(b); ok {
				return st, nil
			}
		}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r, err := o.fetch(ctx, cert, issuer)
	if err != nil {
		return trust.Status{}, err
	}
	t := now()
	if r.ThisUpdate.After(t.Add(5*time.Minute)) || (!r.NextUpdate.IsZero() && !r.NextUpdate.After(t)) {
		return trust.Status{}, fmt.Errorf("%w: stale or future answer (thisUpdate %v, nextUpdate %v)", ErrUnavailable, r.ThisUpdate, r.NextUpdate)
	}
	st := trust.FromOCSP(r, trust.SourceOCSP)
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
			_ = o.Cache.Set(ctx, key, encodeStatus(st), ttl)
		}
	}
	return st, nil
}

// fetch asks the responder cert names and returns its verified answer.
func (o *OCSP) fetch(ctx context.Context, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	var target string
	for _, u := range cert.OCSPServer {
		if pu, err := url.Parse(u); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "" {
			target = u
			break
		}
	}
	if target == "" {
		return nil, fmt.Errorf("%w: the certificate names no OCSP responder", ErrUnavailable)
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	limit := o.MaxBytes
	if limit == 0 {
		limit = 64 << 10
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil || int64(len(body)) > limit || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: responder answered %d (%d bytes)", ErrUnavailable, resp.StatusCode, len(body))
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return r, nil
}

// encodeStatus is the cached form: "state", or "state time reason" for a
// revocation or suspension.
func encodeStatus(st trust.Status) []byte {
	if st.Time.IsZero() {
		return []byte(st.State)
	}
	return []byte(fmt.Sprintf("%s %s %d", st.State, st.Time.Format(time.RFC3339Nano), st.Reason))
}

// decodeStatus reads encodeStatus's form (and the older "state time");
// false for anything else, which counts as a miss.
func decodeStatus(b []byte) (trust.Status, bool) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return trust.Status{}, false
	}
	st := trust.Status{State: trust.State(f[0]), Source: trust.SourceOCSP}
	if len(f) > 1 {
		st.Time, _ = time.Parse(time.RFC3339Nano, f[1])
	}
	if len(f) > 2 {
		n, _ := strconv.Atoi(f[2])
		st.Reason = trust.Reason(n)
	}
	return st, true
}

func cacheKey(cert, issuer *x509.Certificate) string {
	h := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return "revoc:ocsp:" + hex.EncodeToString(h[:12]) + ":" + cert.SerialNumber.Text(16)
}

// Package responder is Yagona's OCSP responder (RFC 6960) with the
// lightweight profile's HTTP caching (RFC 5019) and request nonces
// (RFC 8954).
//
// Requests are parsed here (encoding/asn1), so a nonce and every malformed
// shape are seen; responses are encoded and signed here too, by a delegated
// OCSP signing certificate. Bad input of any kind gets the protocol's
// malformedRequest answer with HTTP 200, never an error page.
//
// Caching and freshness: a response without a nonce is cached (in the
// Cache given, in-process or Redis) under the CertID hash algorithm and the
// serial, for half its validity, and served from there. Requests with a
// nonce are signed fresh and never cached. When the CA changes a
// certificate's status it calls Invalidate, which bumps an in-process
// generation counter for the serial and deletes the cached answers; a miss
// that read the old status before the change only stores its answer if the
// generation is unchanged, so no stale "good" outlives a revocation.
//
// HTTP headers: answers carry Last-Modified (thisUpdate), Expires
// (nextUpdate), an ETag and "Cache-Control: max-age=<until nextUpdate>,
// public, no-transform, must-revalidate" (RFC 5019 §6.2); nonce answers and
// protocol errors carry "Cache-Control: no-store".
package responder

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Certificate statuses, numbered as in golang.org/x/crypto/ocsp.
const (
	Good    = 0
	Revoked = 1
	Unknown = 2
)

// CertStatus is one certificate's status as the CA's records say.
type CertStatus struct {
	Status    int       // Good, Revoked or Unknown
	RevokedAt time.Time // when Revoked
	Reason    int       // RFC 5280 CRLReason when Revoked; certificateHold (6) for a suspension
}

// StatusSource answers for the certificates of the responder's issuer.
type StatusSource interface {
	// OCSPStatus returns the status of the certificate with this serial;
	// Unknown for a serial never issued.
	OCSPStatus(ctx context.Context, serial *big.Int) (CertStatus, error)
}

// Cache keeps signed responses; pkg/cache satisfies it. Any Get error is
// treated as a miss.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Config configures a Responder.
type Config struct {
	Issuer        *x509.Certificate     // the issuing CA answered for
	ResponderCert *x509.Certificate     // delegated OCSP signing certificate, issued by Issuer
	Signer        crypto.Signer         // its key
	Validity      time.Duration         // nextUpdate - thisUpdate; zero means 1 hour
	Now           func() time.Time      // nil means time.Now
	Logger        *slog.Logger          // nil discards
	Registerer    prometheus.Registerer // nil: no metrics
	MaxBody       int64                 // POST body cap; zero means 10 KiB
}

// Responder answers OCSP requests.
type Responder struct {
	cfg    Config
	sig    atomic.Pointer[signer]
	src    StatusSource
	cache  Cache
	now    func() time.Time
	log    *slog.Logger
	flight singleflight.Group
	gens   [64]genShard

	responses *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	byStatus  map[string]prometheus.Counter  // children of responses, resolved once
	byOutcome map[string]prometheus.Observer // children of duration
}

type genShard struct {
	mu sync.Mutex
	m  map[string]uint64
}

// New returns a Responder.
func New(cfg Config, src StatusSource, c Cache) (*Responder, error) {
	if cfg.Issuer == nil || cfg.ResponderCert == nil || cfg.Signer == nil {
		return nil, errors.New("responder: issuer, responder certificate and signer are required")
	}
	sig, err := newSigner(cfg.Issuer, cfg.ResponderCert, cfg.Signer)
	if err != nil {
		return nil, err
	}
	if cfg.Validity == 0 {
		cfg.Validity = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 10 << 10
	}
	r := &Responder{cfg: cfg, src: src, cache: c, now: cfg.Now, log: cfg.Logger,
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_ocsp_responses_total",
			Help: "OCSP responses by outcome: good, revoked, unknown, malformed, unauthorized, trylater."}, []string{"status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_ocsp_request_duration_seconds",
			Help: "Time to answer an OCSP request, by cache outcome.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}, []string{"cache"}),
	}
	r.sig.Store(sig)
	for i := range r.gens {
		r.gens[i].m = map[string]uint64{}
	}
	r.byStatus, r.byOutcome = map[string]prometheus.Counter{}, map[string]prometheus.Observer{}
	for _, st := range []string{"good", "revoked", "unknown", "malformed", "unauthorized", "trylater"} {
		r.byStatus[st] = r.responses.WithLabelValues(st)
	}
	for _, o := range []string{"hit", "miss", "nonce", "error"} {
		r.byOutcome[o] = r.duration.WithLabelValues(o)
	}
	if cfg.Registerer != nil {
		if err := errors.Join(cfg.Registerer.Register(r.responses), cfg.Registerer.Register(r.duration)); err != nil {
			return nil, fmt.Errorf("responder: metrics: %w", err)
		}
	}
	return r, nil
}

// answer is a response with the times its HTTP headers need.
type answer struct {
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
	cacheable  bool // no nonce, successful
	status     string
}

// Respond answers a DER request. Protocol errors come back as DER error
// responses; err is never set for bad input.
func (r *Responder) Respond(ctx context.Context, reqDER []byte) ([]byte, error) {
	a := r.respond(ctx, reqDER)
	return a.der, nil
}

func (r *Responder) respond(ctx context.Context, reqDER []byte) answer {
	start := time.Now()
	outcome := "miss"
	defer func() { r.byOutcome[outcome].Observe(time.Since(start).Seconds()) }()
	req, err := ParseRequest(reqDER)
	if errors.Is(err, ErrUnsupported) {
		outcome = "error"
		return r.fail(UnauthorizedResponse, "unauthorized")
	}
	if err != nil {
		outcome = "error"
		return r.fail(MalformedResponse, "malformed")
	}
	i := req.hashIndex
	sig := r.sig.Load()
	if !constEq(req.IssuerNameHash, sig.nameHash[i]) || !constEq(req.IssuerKeyHash, sig.keyHash[i]) {
		outcome = "error"
		return r.fail(UnauthorizedResponse, "unauthorized")
	}
	if req.Nonce != nil {
		outcome = "nonce"
		a, err := r.sign(ctx, req)
		if err != nil {
			return r.tryLater(ctx, err)
		}
		return a
	}
	key := cacheKey(i, req.SerialNumber)
	if b, err := r.cache.Get(ctx, key); err == nil {
		if a, ok := decodeCached(b); ok && r.now().Before(a.nextUpdate) {
			outcome = "hit"
			r.byStatus[a.status].Inc()
			return a
		}
	}
	v, err, _ := r.flight.Do(key, func() (any, error) {
		gen := r.generation(req.SerialNumber)
		a, err := r.sign(ctx, req)
		if err != nil {
			return answer{}, err
		}
		if r.generation(req.SerialNumber) == gen {
			ttl := a.nextUpdate.Sub(a.thisUpdate) / 2
			if err := r.cache.Set(ctx, key, encodeCached(a), ttl); err != nil {
				r.log.WarnContext(ctx, "ocsp cache set failed", "err", err)
			}
		}
		return a, nil
	})
	if err != nil {
		return r.tryLater(ctx, err)
	}
	return v.(answer)
}

func (r *Responder) tryLater(ctx context.Context, err error) answer {
	r.log.ErrorContext(ctx, "ocsp: cannot answer", "err", err)
	return r.fail(TryLaterResponse, "trylater")
}

func (r *Responder) fail(der []byte, status string) answer {
	r.byStatus[status].Inc()
	return answer{der: der, status: status}
}

func (r *Responder) sign(ctx context.Context, req *Request) (answer, error) {
	st, err := r.src.OCSPStatus(ctx, req.SerialNumber)
	if err != nil {
		return answer{}, err
	}
	now := r.now().UTC().Truncate(time.Second)
	// thisUpdate is a minute early so clients with slow clocks accept it.
	a := answer{thisUpdate: now.Add(-time.Minute), cacheable: req.Nonce == nil}
	a.nextUpdate = a.thisUpdate.Add(r.cfg.Validity)
	a.der, err = r.sig.Load().sign(req, st, a.thisUpdate, a.nextUpdate, now)
	if err != nil {
		return answer{}, err
	}
	a.status = [...]string{"good", "revoked", "unknown"}[min(max(st.Status, 0), 2)]
	r.byStatus[a.status].Inc()
	return a, nil
}

func constEq(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

func cacheKey(hashIndex int, serial *big.Int) string {
	return "ocsp:" + hashes[hashIndex].name + ":" + serial.Text(16)
}

// The cached value: thisUpdate, nextUpdate (unix seconds, big-endian), a
// status byte, then the DER response.
func encodeCached(a answer) []byte {
	b := make([]byte, 17, 17+len(a.der))
	binary.BigEndian.PutUint64(b[0:], uint64(a.thisUpdate.Unix()))
	binary.BigEndian.PutUint64(b[8:], uint64(a.nextUpdate.Unix()))
	b[16] = map[string]byte{"good": Good, "revoked": Revoked, "unknown": Unknown}[a.status]
	return append(b, a.der...)
}

func decodeCached(b []byte) (answer, bool) {
	if len(b) < 18 || b[16] > Unknown {
		return answer{}, false
	}
	return answer{
		thisUpdate: time.Unix(int64(binary.BigEndian.Uint64(b[0:])), 0).UTC(),
		nextUpdate: time.Unix(int64(binary.BigEndian.Uint64(b[8:])), 0).UTC(),
		status:     [...]string{"good", "revoked", "unknown"}[b[16]],
		der:        b[17:],
		cacheable:  true,
	}, true
}

func (r *Responder) shard(serial string) *genShard {
	h := fnv.New32a()
	h.Write([]byte(serial))
	return &r.gens[h.Sum32()%uint32(len(r.gens))]
}

func (r *Responder) generation(serial *big.Int) uint64 {
	k := serial.Text(16)
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

// SetSigner replaces the delegated signing certificate and key, for a
// signer renewed while the server runs. Answers already cached stay valid:
// they were signed by a certificate of the same issuer.
func (r *Responder) SetSigner(cert *x509.Certificate, key crypto.Signer) error {
	sig, err := newSigner(r.cfg.Issuer, cert, key)
	if err != nil {
		return err
	}
	r.sig.Store(sig)
	return nil
}

// Invalidate drops every cached answer for serial. The CA calls it right
// after a status change is committed.
func (r *Responder) Invalidate(ctx context.Context, serial *big.Int) error {
	k := serial.Text(16)
	s := r.shard(k)
	s.mu.Lock()
	s.m[k]++
	s.mu.Unlock()
	var errs []error
	for i := range hashes {
		if err := r.cache.Delete(ctx, cacheKey(i, serial)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("responder: invalidate %s: %w", k, err)
	}
	return nil
}

// ServeHTTP answers POST with a DER body and GET with the base64 request
// in the path (RFC 6960 Appendix A.1). Mount it with http.StripPrefix.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var der []byte
	switch req.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
		if err != nil {
			r.write(w, r.fail(MalformedResponse, "malformed"))
			return
		}
		der = body
	case http.MethodGet:
		der = decodeGET(req.URL)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.write(w, r.respond(req.Context(), der))
}

// decodeGET takes the request from the path after the mount prefix. Base64
// may hold '/' (so the path may have several segments) and '+' (which
// some clients send as a space).
func decodeGET(u *url.URL) []byte {
	p := strings.TrimPrefix(u.EscapedPath(), "/")
	if p == "" || len(p) > 4096 {
		return nil
	}
	s, err := url.PathUnescape(p)
	if err != nil {
		return nil
	}
	s = strings.ReplaceAll(s, " ", "+")
	if der, err := base64.StdEncoding.DecodeString(s); err == nil {
		return der
	}
	der, _ := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	return der
}

func (r *Responder) write(w http.ResponseWriter, a answer) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	if a.cacheable {
		now := r.now()
		maxAge := int(a.nextUpdate.Sub(now).Seconds())
		h.Set("Cache-Control", "max-age="+strconv.Itoa(max(maxAge, 0))+", public, no-transform, must-revalidate")
		h.Set("Last-Modified", a.thisUpdate.Format(http.TimeFormat))
		h.Set("Expires", a.nextUpdate.Format(http.TimeFormat))
		e := fnv.New64a()
		e.Write(a.der)
		h.Set("ETag", `"`+strconv.FormatUint(e.Sum64(), 16)+`"`)
	} else {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Content-Length", strconv.Itoa(len(a.der)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.der)
}

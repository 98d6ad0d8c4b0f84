// Package responder is Yagona's OCSP responder: RFC 6960 with the
// lightweight profile of RFC 5019 (one certificate per request, GET with
// HTTP caching) and request nonces as RFC 8954 limits them (1 to 32
// octets).
//
// # Protocol
//
// Requests are parsed here (ParseRequest), not by golang.org/x/crypto/ocsp,
// whose parser drops the extensions and all but the first CertID. A request
// must hold exactly one CertID, hashed with SHA-1, SHA-256, SHA-384 or
// SHA-512, for the configured issuer. Responses are signed by a delegated
// OCSP signing certificate (extended key usage OCSPSigning, issued by the
// issuer), which every response carries; the responder is identified by
// key hash. thisUpdate is a minute before the signing time (for clients
// whose clocks are slow), nextUpdate is thisUpdate plus Config.Validity.
//
// Bad input never gets an error page, a 4xx/5xx status or a panic: an
// empty, oversized, truncated or otherwise malformed request (including two
// requests, trailing data, a bad nonce, an unknown critical extension, bad
// base64 in a GET) is answered with the DER malformedRequest response,
// HTTP 200, Content-Type application/ocsp-response. A CertID for another
// issuer, or hashed with an unknown algorithm, gets unauthorized; a
// StatusSource error gets tryLater (and is logged). Only a method other
// than GET and POST is refused at the HTTP level, with 405.
//
// # Caching and freshness
//
// A response to a request without a nonce is cached in the Cache given
// (in-process, or Redis shared by replicas) under "ocsp:<hash>:<serial
// hex>", for half the validity, and served from there: the cached value is
// the DER with a small header (thisUpdate, nextUpdate, status, SHA-256 of
// the DER), so the HTTP headers need no parsing. Concurrent misses for one
// key sign once (singleflight). A request with a nonce is signed fresh, the
// nonce's extnValue echoed byte for byte in responseExtensions, and never
// cached.
//
// A status change is visible in the next response: the CA calls Invalidate
// right after committing it, which first bumps an in-process generation
// counter for the serial, then deletes the cached answers for every hash
// algorithm. A miss reads the generation before asking the StatusSource and
// stores its answer only if the generation is unchanged after signing
// (and deletes it again if the generation moved while it was storing), so a
// miss that read the old status cannot put it back after Invalidate ran;
// and a request arriving after Invalidate never joins a signing that
// started before it. The generation lives in the process that calls
// Invalidate: replicas sharing a Redis cache get the deletion but not that
// guard, so a miss in flight on another replica can re-store an answer at
// most as old as the one deleted, for at most half the validity.
//
// # HTTP
//
// Mount the Responder under a prefix with http.StripPrefix, say "/ocsp":
// POST the DER request to the prefix, or GET prefix + "/" + the request in
// standard base64 (padding optional), URL-escaped (RFC 6960 Appendix A.1;
// a path cleaned by http.ServeMux breaks requests whose base64 holds "//",
// so route the prefix before any ServeMux).
//
// Successful GET answers to requests without a nonce carry the RFC 5019
// §6.2 headers: Last-Modified (thisUpdate), Expires (nextUpdate), ETag (the
// quoted hex SHA-256 of the response) and "Cache-Control:
// max-age=<seconds until nextUpdate>, public, no-transform,
// must-revalidate"; If-None-Match with that ETag gets 304. Everything else
// (POST answers, nonce answers, error answers) carries "Cache-Control:
// no-store": POST answers are not cacheable by HTTP caches anyway, nonce
// answers are for one request, and an error must not stick in a CDN.
//
// # Metrics
//
// With Config.Registerer, yagona_ocsp_responses_total{status} counts
// answers by status (good, revoked, unknown, malformed, unauthorized,
// trylater) and yagona_ocsp_request_duration_seconds{cache} observes the
// time to answer by path: hit, miss, nonce, or error for requests refused
// before any lookup.
package responder

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Certificate statuses, numbered as in golang.org/x/crypto/ocsp (Good,
// Revoked, Unknown there are the same values).
const (
	Good    = 0
	Revoked = 1
	Unknown = 2
)

// CertStatus is one certificate's status as the CA's records say.
type CertStatus struct {
	Status    int       // Good, Revoked or Unknown; anything else answers unknown
	RevokedAt time.Time // when Revoked
	Reason    int       // RFC 5280 CRLReason when Revoked; certificateHold (6) for a suspension
}

// StatusSource answers for the certificates of the responder's issuer.
type StatusSource interface {
	// OCSPStatus returns the status of the certificate with this serial
	// issued by the responder's issuer; Unknown for a serial never issued.
	OCSPStatus(ctx context.Context, serial *big.Int) (CertStatus, error)
}

// Cache keeps signed responses. github.com/yagona/yagona/pkg/cache's
// implementations satisfy it. Every Get error counts as a miss.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Config configures a Responder.
type Config struct {
	Issuer        *x509.Certificate     // the issuing CA answered for
	ResponderCert *x509.Certificate     // delegated OCSP signing certificate (EKU OCSPSigning), issued by Issuer
	Signer        crypto.Signer         // its key: ECDSA P-256 or P-384, or RSA
	Validity      time.Duration         // nextUpdate - thisUpdate; zero means 1 hour
	Now           func() time.Time      // nil means time.Now
	Logger        *slog.Logger          // nil discards
	Registerer    prometheus.Registerer // nil: no metrics
	MaxBody       int64                 // POST body cap in bytes; zero means 10 KiB
	// Miss is the error the Cache's Get returns for an absent key
	// (pkg/cache.ErrMiss), compared with errors.Is. Any other Get error
	// is a failure of the shared cache (see CacheBackoff). Nil: every
	// Get error is taken for a failure.
	Miss error

	// Local is an in-process cache in front of Cache (pkg/cache.Memory
	// with a bounded size); an answer stays there at most LocalTTL (zero:
	// one second), which bounds how long a replica that missed an
	// invalidation can serve an old status. Nil: no local cache.
	Local    Cache
	LocalTTL time.Duration
	// Bus spreads invalidations to the other replicas (see Listen). Nil:
	// they stay in this process.
	Bus Bus
	// MaxSigning caps concurrent signatures for misses and nonce requests
	// (zero: 2 × GOMAXPROCS); up to MaxQueue more (zero: 32 × MaxSigning)
	// wait at most QueueWait (zero: 200 ms) for a slot, and beyond that a
	// request is answered tryLater at once.
	MaxSigning int
	MaxQueue   int
	QueueWait  time.Duration
	// CacheBackoff is how long the shared Cache is left alone after an
	// error (zero: one second): the responder then signs live, within
	// MaxSigning, and keeps answers in Local only.
	CacheBackoff time.Duration
}

// Response statuses, indexes of the responses counter's children.
const (
	stGood = iota
	stRevoked
	stUnknown
	stMalformed
	stUnauthorized
	stTryLater
	nStatus
)

var statusNames = [nStatus]string{"good", "revoked", "unknown", "malformed", "unauthorized", "trylater"}

// Paths through Respond, indexes of the duration histogram's children.
const (
	pathHit = iota
	pathMiss
	pathNonce
	pathError
	nPath
)

var pathNames = [nPath]string{"hit", "miss", "nonce", "error"}

// genBuckets is the number of generation counters; serials share them by
// hash. Sharing only costs a skipped cache store when another serial of
// the bucket is invalidated during a miss, and keeps memory bounded
// however many certificates change status.
const genBuckets = 4096

// signTimeout bounds the StatusSource call and signature of a miss, which
// runs detached from the request that started it (others may wait on it).
const signTimeout = 10 * time.Second

// Responder answers OCSP requests for one issuer. It is an http.Handler.
type Responder struct {
	cfg    Config
	sig    atomic.Pointer[signer]
	pre    atomic.Pointer[presigned] // answers for another issuer, signed ahead of time
	src    StatusSource
	cache  Cache
	now    func() time.Time
	log    *slog.Logger
	flight singleflight.Group
	gens   [genBuckets]genCounter
	local  Cache
	id     string // this replica's name on the Bus

	slots           chan struct{}
	waiting         atomic.Int64
	sharedDownUntil atomic.Int64 // unix nanoseconds
	m               scaleMetrics

	responses *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	byStatus  [nStatus]prometheus.Counter
	byPath    [nPath]prometheus.Observer
}

// New returns a Responder answering from src and caching in c. It checks
// that the signer's key matches ResponderCert and that Issuer issued it.
func New(cfg Config, src StatusSource, c Cache) (*Responder, error) {
	if cfg.Issuer == nil || cfg.ResponderCert == nil || cfg.Signer == nil {
		return nil, errors.New("responder: issuer, responder certificate and signer are required")
	}
	if src == nil || c == nil {
		return nil, errors.New("responder: status source and cache are required")
	}
	if cfg.Validity < 0 || cfg.MaxBody < 0 {
		return nil, errors.New("responder: negative validity or body limit")
	}
	sig, err := newSigner(cfg.Issuer, cfg.ResponderCert, cfg.Signer)
	if err != nil {
		return nil, err
	}
	if cfg.Validity == 0 {
		cfg.Validity = time.Hour
	}
	if cfg.Validity < 2*time.Second {
		return nil, errors.New("responder: validity under two seconds")
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
	if cfg.MaxSigning <= 0 {
		cfg.MaxSigning = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 32 * cfg.MaxSigning
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = defaultQueueWait
	}
	if cfg.LocalTTL <= 0 {
		cfg.LocalTTL = defaultLocalTTL
	}
	if cfg.CacheBackoff <= 0 {
		cfg.CacheBackoff = defaultCacheBackoff
	}
	r := &Responder{cfg: cfg, src: src, cache: c, now: cfg.Now, log: cfg.Logger, local: cfg.Local,
		id: rand.Text(), slots: make(chan struct{}, cfg.MaxSigning), m: newScaleMetrics(),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_ocsp_responses_total",
			Help: "OCSP responses by status: good, revoked, unknown, malformed, unauthorized, trylater."}, []string{"status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_ocsp_request_duration_seconds",
			Help:    "Time to answer an OCSP request, by path: cache hit, miss (signed), nonce (signed, not cached), error (refused before lookup).",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}, []string{"cache"}),
	}
	r.sig.Store(sig)
	for i, n := range statusNames {
		r.byStatus[i] = r.responses.WithLabelValues(n)
	}
	for i, n := range pathNames {
		r.byPath[i] = r.duration.WithLabelValues(n)
	}
	if cfg.Registerer != nil {
		errs := []error{cfg.Registerer.Register(r.responses), cfg.Registerer.Register(r.duration)}
		for _, c := range r.m.collectors() {
			errs = append(errs, cfg.Registerer.Register(c))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("responder: metrics: %w", err)
		}
	}
	return r, nil
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

// answer is a response with what its HTTP headers need.
type answer struct {
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
	etag       []byte // SHA-256 of der, for cacheable answers
	cacheable  bool   // successful, for a request without a nonce
	status     int    // stGood...
}

// Respond answers a DER OCSPRequest with a DER OCSPResponse, exactly as
// ServeHTTP would. Every problem with the request or in answering it comes
// back as a DER error response (malformedRequest, unauthorized, tryLater);
// the error is reserved and is nil today. The returned slice may be shared
// with other callers: do not modify it.
func (r *Responder) Respond(ctx context.Context, reqDER []byte) ([]byte, error) {
	a := r.respond(ctx, reqDER)
	return a.der, nil
}

func (r *Responder) respond(ctx context.Context, reqDER []byte) answer {
	start := time.Now()
	path := pathMiss
	defer func() { r.byPath[path].Observe(time.Since(start).Seconds()) }()
	req, err := ParseRequest(reqDER)
	if err != nil {
		path = pathError
		if errors.Is(err, ErrUnsupported) {
			return r.fail(stUnauthorized)
		}
		return r.fail(stMalformed)
	}
	i := req.hashIndex
	sig := r.sig.Load()
	if !constEq(req.IssuerNameHash, sig.nameHash[i]) || !constEq(req.IssuerKeyHash, sig.keyHash[i]) {
		if a, ok := r.lookupPresigned(req); ok {
			path = pathHit
			r.byStatus[a.status].Inc()
			return a
		}
		path = pathError
		return r.fail(stUnauthorized)
	}
	if req.Nonce != nil {
		path = pathNonce
		st, err := r.src.OCSPStatus(ctx, req.SerialNumber)
		if err != nil {
			return r.tryLater(ctx, req, err)
		}
		if !r.acquire(ctx) {
			return r.fail(stTryLater)
		}
		a, err := r.sign(req, st)
		r.release()
		if err != nil {
			return r.tryLater(ctx, req, err)
		}
		return a
	}
	key := cacheKey(i, req.SerialNumber)
	gb := &r.gens[genBucket(req.SerialNumber)]
	if a, ok := r.lookup(ctx, key, gb); ok {
		path = pathHit
		r.byStatus[a.status].Inc()
		return a
	}
	// The generation is read before the source: if it still holds after
	// signing and storing, no Invalidate ran since, so what the source said
	// was current when we asked. It is part of the flight key so a request
	// arriving after an Invalidate starts its own lookup.
	gen := gb.Load()
	v, err, _ := r.flight.Do(key+"@"+strconv.FormatUint(gen, 10), func() (any, error) {
		if !r.acquire(ctx) {
			return nil, errShed
		}
		defer r.release()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signTimeout)
		defer cancel()
		st, err := r.src.OCSPStatus(ctx, req.SerialNumber)
		if err != nil {
			return nil, err
		}
		a, err := r.sign(req, st)
		if err != nil {
			return nil, err
		}
		r.store(ctx, key, a, gb, gen)
		return a, nil
	})
	if errors.Is(err, errShed) {
		return r.fail(stTryLater)
	}
	if err != nil {
		return r.tryLater(ctx, req, err)
	}
	a := v.(answer)
	r.byStatus[a.status].Inc()
	return a
}

func (r *Responder) tryLater(ctx context.Context, req *Request, err error) answer {
	r.log.ErrorContext(ctx, "ocsp: cannot answer", "serial", req.SerialNumber.Text(16), "err", err)
	return r.fail(stTryLater)
}

func (r *Responder) fail(status int) answer {
	r.byStatus[status].Inc()
	var der []byte
	switch status {
	case stMalformed:
		der = malformedDER
	case stUnauthorized:
		der = unauthorizedDER
	default:
		der = tryLaterDER
	}
	return answer{der: der, status: status}
}

// sign makes the answer for req. The nonce path counts its status here;
// the miss path counts it for every waiter of the flight.
func (r *Responder) sign(req *Request, st CertStatus) (answer, error) {
	now := r.now().UTC().Truncate(time.Second)
	// thisUpdate is a minute early so clients with slow clocks accept it.
	a := answer{thisUpdate: now.Add(-time.Minute), cacheable: req.Nonce == nil}
	a.nextUpdate = a.thisUpdate.Add(r.cfg.Validity)
	var err error
	a.der, err = r.sig.Load().sign(req, st, a.thisUpdate, a.nextUpdate, now)
	if err != nil {
		return answer{}, err
	}
	switch st.Status {
	case Good:
		a.status = stGood
	case Revoked:
		a.status = stRevoked
	default:
		a.status = stUnknown
	}
	if a.cacheable {
		sum := sha256.Sum256(a.der)
		a.etag = sum[:]
	} else {
		r.byStatus[a.status].Inc()
	}
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

// The cached value: a format byte, the status, thisUpdate and nextUpdate
// (unix seconds, big-endian), the SHA-256 of the DER, then the DER.
const (
	cachedFormat = 1
	cachedHeader = 2 + 8 + 8 + sha256.Size
)

func encodeCached(a answer) []byte {
	b := make([]byte, cachedHeader, cachedHeader+len(a.der))
	b[0], b[1] = cachedFormat, byte(a.status)
	binary.BigEndian.PutUint64(b[2:], uint64(a.thisUpdate.Unix()))
	binary.BigEndian.PutUint64(b[10:], uint64(a.nextUpdate.Unix()))
	copy(b[18:], a.etag)
	return append(b, a.der...)
}

// decodeCached reads encodeCached's output; the answer aliases b.
func decodeCached(b []byte) (answer, bool) {
	if len(b) <= cachedHeader || b[0] != cachedFormat || b[1] > stUnknown {
		return answer{}, false
	}
	return answer{
		status:     int(b[1]),
		thisUpdate: time.Unix(int64(binary.BigEndian.Uint64(b[2:])), 0).UTC(),
		nextUpdate: time.Unix(int64(binary.BigEndian.Uint64(b[10:])), 0).UTC(),
		etag:       b[18:cachedHeader:cachedHeader],
		der:        b[cachedHeader:],
		cacheable:  true,
	}, true
}

// genBucket spreads serials over the generation counters.
func genBucket(serial *big.Int) int {
	h := uint64(14695981039346656037)
	for _, w := range serial.Bits() {
		h ^= uint64(w)
		h *= 1099511628211
		h ^= h >> 29
	}
	return int(h % genBuckets)
}

// Invalidate makes the next answer for serial reflect its status in the
// StatusSource: the CA calls it right after a status change is committed.
// It bumps the serial's generation, so misses in flight do not cache what
// they read before, drops the local and shared cached answers for every
// CertID hash algorithm, and publishes the serial on the Bus so the other
// replicas do the same. An error means some cached answer may survive
// until it expires or the refresh job's sweep of recent status changes
// invalidates it again.
func (r *Responder) Invalidate(ctx context.Context, serial *big.Int) error {
	if serial == nil {
		return errors.New("responder: invalidate: nil serial")
	}
	r.bump(serial)
	errs := []error{r.deleteShared(ctx, serial)}
	if r.cfg.Bus != nil {
		errs = append(errs, r.cfg.Bus.Publish(ctx, InvalidationChannel, []byte(r.id+" "+serial.Text(16))))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("responder: invalidate %s: %w", serial.Text(16), err)
	}
	return nil
}

// genCounter is one bucket of invalidation generations.
type genCounter = atomic.Uint64

package responder

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// This file holds what lets many replicas answer from one shared cache:
// the in-process cache in front of it, the back-off when it fails, the cap
// on concurrent signing with load shedding beyond it, signing ahead, and
// invalidations broadcast to the other replicas.

// Bus carries invalidations between replicas: at most once, to the
// subscribers listening at the time. pkg/cache's Redis (PUBLISH and
// SUBSCRIBE) and Memory (in-process) satisfy it.
type Bus interface {
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe calls handle for every message on channel until ctx is
	// done; it returns once the subscription is in place.
	Subscribe(ctx context.Context, channel string, handle func(msg []byte)) error
}

// InvalidationChannel is the Bus channel of status changes: each message
// is "<replica id> <serial in hex>".
const InvalidationChannel = "ocsp-invalidate"

// Defaults of the scale settings in Config.
const (
	defaultLocalTTL     = time.Second
	defaultQueueWait    = 200 * time.Millisecond
	defaultCacheBackoff = time.Second
)

// presignHashes are the CertID hash algorithms answered ahead of time:
// SHA-1 (what OpenSSL, browsers and most libraries send) and SHA-256.
// Requests hashed otherwise are signed on their first miss.
var presignHashes = []int{0, 1}

type scaleMetrics struct {
	shed        prometheus.Counter
	cacheErrors prometheus.Counter
	presigned   prometheus.Counter
	lookups     *prometheus.CounterVec
	localHit    prometheus.Counter
	sharedHit   prometheus.Counter
	miss        prometheus.Counter
}

func newScaleMetrics() scaleMetrics {
	m := scaleMetrics{
		shed: prometheus.NewCounter(prometheus.CounterOpts{Name: "yagona_ocsp_shed_total",
			Help: "OCSP requests answered tryLater because every signing slot was busy and the queue full or too slow."}),
		cacheErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "yagona_ocsp_cache_errors_total",
			Help: "Errors of the shared OCSP cache (Redis); each one makes the responder sign live for a second."}),
		presigned: prometheus.NewCounter(prometheus.CounterOpts{Name: "yagona_ocsp_presigned_total",
			Help: "OCSP responses signed ahead of demand by the refresh job."}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_ocsp_cache_lookups_total",
			Help: "OCSP cache lookups by result: local (in-process hit), shared (Redis hit), miss."}, []string{"result"}),
	}
	m.localHit = m.lookups.WithLabelValues("local")
	m.sharedHit = m.lookups.WithLabelValues("shared")
	m.miss = m.lookups.WithLabelValues("miss")
	return m
}

func (m scaleMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.shed, m.cacheErrors, m.presigned, m.lookups}
}

// sharedUp reports whether the shared cache is in use: not within
// CacheBackoff of its last error.
func (r *Responder) sharedUp() bool {
	return r.now().UnixNano() >= r.sharedDownUntil.Load()
}

// sharedFailed starts a back-off after a shared-cache error: for
// CacheBackoff, answers are signed live and kept only in the local cache.
func (r *Responder) sharedFailed(ctx context.Context, op string, err error) {
	r.m.cacheErrors.Inc()
	until := r.now().Add(r.cfg.CacheBackoff).UnixNano()
	if prev := r.sharedDownUntil.Swap(until); prev < r.now().UnixNano() {
		r.log.WarnContext(ctx, "ocsp shared cache failed; signing live", "op", op, "err", err, "backoff", r.cfg.CacheBackoff)
	}
}

// lookup finds a cached answer still before its nextUpdate: first in the
// local cache, then in the shared one (copying it to the local cache for
// at most LocalTTL, unless an invalidation of the serial ran meanwhile).
func (r *Responder) lookup(ctx context.Context, key string, gb *genCounter) (answer, bool) {
	now := r.now()
	if r.local != nil {
		if b, err := r.local.Get(ctx, key); err == nil {
			if a, ok := decodeCached(b); ok && now.Before(a.nextUpdate) {
				r.m.localHit.Inc()
				return a, true
			}
		}
	}
	if !r.sharedUp() {
		r.m.miss.Inc()
		return answer{}, false
	}
	gen := gb.Load()
	b, err := r.cache.Get(ctx, key)
	if err != nil {
		if r.cfg.Miss == nil || !errors.Is(err, r.cfg.Miss) {
			r.sharedFailed(ctx, "get", err)
		}
		r.m.miss.Inc()
		return answer{}, false
	}
	a, ok := decodeCached(b)
	if !ok || !now.Before(a.nextUpdate) {
		r.m.miss.Inc()
		return answer{}, false
	}
	r.m.sharedHit.Inc()
	r.storeLocal(ctx, key, b, a, gb, gen)
	return a, true
}

// storeLocal keeps an encoded answer in the local cache for at most
// LocalTTL, and takes it out again if the serial's generation moved.
func (r *Responder) storeLocal(ctx context.Context, key string, b []byte, a answer, gb *genCounter, gen uint64) {
	if r.local == nil {
		return
	}
	ttl := min(r.cfg.LocalTTL, a.nextUpdate.Sub(r.now()))
	if ttl <= 0 || gb.Load() != gen {
		return
	}
	_ = r.local.Set(ctx, key, b, ttl)
	if gb.Load() != gen {
		_ = r.local.Delete(ctx, key)
	}
}

// sharedTTL is how long an answer stays in the shared cache: until a
// quarter of the validity before its nextUpdate, so what a client gets
// from the cache is always fresh for a while yet.
func (r *Responder) sharedTTL(a answer) time.Duration {
	return max(a.nextUpdate.Sub(r.now())-r.cfg.Validity/4, time.Second)
}

// putShared stores an encoded answer in the shared cache while the
// serial's generation is gen: not at all if it moved before, and deleted
// again if it moved during the store (Invalidate's delete may have come
// first). It reports whether the answer stayed.
func (r *Responder) putShared(ctx context.Context, key string, b []byte, a answer, gb *genCounter, gen uint64) (bool, error) {
	if gb.Load() != gen {
		return false, nil
	}
	if err := r.cache.Set(ctx, key, b, r.sharedTTL(a)); err != nil {
		return false, err
	}
	if gb.Load() != gen {
		return false, r.cache.Delete(ctx, key)
	}
	return true, nil
}

// store keeps a freshly signed answer: in the shared cache (unless it is
// backing off) and in the local one, in both only while the serial's
// generation is gen; see the package documentation.
func (r *Responder) store(ctx context.Context, key string, a answer, gb *genCounter, gen uint64) {
	b := encodeCached(a)
	if r.sharedUp() {
		if _, err := r.putShared(ctx, key, b, a, gb, gen); err != nil {
			r.sharedFailed(ctx, "set", err)
		}
	}
	r.storeLocal(ctx, key, b, a, gb, gen)
}

// acquire takes a signing slot: at once if one is free, else after
// waiting at most QueueWait behind at most MaxQueue others. False means
// the request is shed.
func (r *Responder) acquire(ctx context.Context) bool {
	select {
	case r.slots <- struct{}{}:
		return true
	default:
	}
	if r.waiting.Add(1) > int64(r.cfg.MaxQueue) {
		r.waiting.Add(-1)
		r.m.shed.Inc()
		return false
	}
	defer r.waiting.Add(-1)
	t := time.NewTimer(r.cfg.QueueWait)
	defer t.Stop()
	select {
	case r.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	r.m.shed.Inc()
	return false
}

func (r *Responder) release() { <-r.slots }

// errShed is the error of a miss that found no signing slot.
var errShed = errors.New("responder: signing capacity exceeded")

// Entry is one certificate's status for Presign.
type Entry struct {
	Serial *big.Int
	Status CertStatus
}

// Presign signs answers ahead of demand and stores them in the shared
// cache: for each entry page returns, the SHA-1 and SHA-256 CertID
// answers, unless the cached one has more than half its validity left.
// page is called once; it must read the statuses after Presign is called
// (Presign notes the invalidation generations first, so an answer read
// before a status change is never stored after it). It returns how many
// answers it signed. Presign runs on one goroutine and does not take
// signing slots: the job that calls it is the only one.
func (r *Responder) Presign(ctx context.Context, page func(context.Context) ([]Entry, error)) (int, error) {
	var gens [genBuckets]uint64
	for i := range r.gens {
		gens[i] = r.gens[i].Load()
	}
	entries, err := page(ctx)
	if err != nil {
		return 0, err
	}
	if !r.sharedUp() {
		return 0, errors.New("responder: presign: shared cache is backing off")
	}
	signed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return signed, err
		}
		bucket := genBucket(e.Serial)
		gb := &r.gens[bucket]
		for _, hi := range presignHashes {
			key := cacheKey(hi, e.Serial)
			if b, err := r.cache.Get(ctx, key); err == nil {
				if a, ok := decodeCached(b); ok && a.nextUpdate.Sub(r.now()) > r.cfg.Validity/2 {
					continue
				}
			} else if r.cfg.Miss == nil || !errors.Is(err, r.cfg.Miss) {
				return signed, err
			}
			a, err := r.sign(&Request{hashIndex: hi, HashAlgorithm: hashes[hi].hash, SerialNumber: e.Serial}, e.Status)
			if err != nil {
				return signed, err
			}
			stored, err := r.putShared(ctx, key, encodeCached(a), a, gb, gens[bucket])
			if err != nil {
				return signed, err
			}
			if !stored {
				break // changed since page read it: the next miss signs it
			}
			signed++
			r.m.presigned.Inc()
		}
	}
	return signed, nil
}

// Listen applies the invalidations other replicas publish on the Bus until
// ctx is done. It returns once subscribed; without a Bus it does nothing.
func (r *Responder) Listen(ctx context.Context) error {
	if r.cfg.Bus == nil {
		return nil
	}
	return r.cfg.Bus.Subscribe(ctx, InvalidationChannel, func(msg []byte) {
		origin, serial, ok := parseInvalidation(msg)
		if !ok || origin == r.id {
			return
		}
		hexSerial := serial.Text(16)
		// Again here, after any store that raced with the sender's
		// delete: a miss in flight on this replica that read the old
		// status either sees the generation move or stored before this
		// delete.
		r.bump(serial)
		if err := r.deleteShared(ctx, serial); err != nil {
			r.log.WarnContext(ctx, "ocsp invalidation from another replica: shared delete failed", "serial", hexSerial, "err", err)
		}
	})
}

// parseInvalidation reads a Bus message "<replica id> <serial in hex>":
// the serial positive, at most 20 octets (RFC 5280), in lower- or
// upper-case hex without sign or prefix.
func parseInvalidation(msg []byte) (origin string, serial *big.Int, ok bool) {
	origin, hexSerial, found := strings.Cut(string(msg), " ")
	if !found || origin == "" || len(hexSerial) == 0 || len(hexSerial) > 40 {
		return "", nil, false
	}
	for _, c := range hexSerial {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", nil, false
		}
	}
	serial, ok = new(big.Int).SetString(hexSerial, 16)
	if !ok || serial.Sign() <= 0 {
		return "", nil, false
	}
	return origin, serial, true
}

// bump moves the serial's generation and drops its local answers.
func (r *Responder) bump(serial *big.Int) {
	r.gens[genBucket(serial)].Add(1)
	if r.local != nil {
		for i := range hashes {
			_ = r.local.Delete(context.Background(), cacheKey(i, serial))
		}
	}
}

func (r *Responder) deleteShared(ctx context.Context, serial *big.Int) error {
	var errs []error
	for i := range hashes {
		if err := r.cache.Delete(ctx, cacheKey(i, serial)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

package responder

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cache"
)

// replica is a second Responder over the fixture's shared cache and
// status source, as another replica of the service would be.
func (f *fixture) replica(t *testing.T, cfg func(*Config)) *Responder {
	t.Helper()
	c := Config{Issuer: f.issuer, ResponderCert: f.responder, Signer: f.key, Now: func() time.Time { return *f.now.Load() }, Miss: errMiss}
	cfg(&c)
	r, err := New(c, f.src, f.cache)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) localCache(t *testing.T) *cache.Memory {
	m := cache.NewMemory(func() time.Time { return *f.now.Load() })
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func (f *fixture) statusOf(t *testing.T, r *Responder, h crypto.Hash) int {
	t.Helper()
	der, _ := r.Respond(t.Context(), f.request(t, f.leaf(), h))
	return f.parse(t, der, f.leaf()).Status
}

// TestReplicasInvalidate: a revocation handled by one replica is answered
// revoked at once by another that had the good answer in its local cache,
// through the Bus; without the Bus, within LocalTTL.
func TestReplicasInvalidate(t *testing.T) {
	t.Run("bus", func(t *testing.T) {
		bus := cache.NewMemory(time.Now)
		f := newFixture(t)
		a := f.replica(t, func(c *Config) { c.Local, c.Bus = f.localCache(t), bus })
		b := f.replica(t, func(c *Config) { c.Local, c.Bus = f.localCache(t), bus })
		for _, r := range []*Responder{a, b} {
			if err := r.Listen(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if f.statusOf(t, b, crypto.SHA1) != ocsp.Good || f.statusOf(t, a, crypto.SHA1) != ocsp.Good {
			t.Fatal("want good first")
		}
		f.src.set(f.leaf().SerialNumber, CertStatus{Status: Revoked, RevokedAt: time.Now()})
		if err := a.Invalidate(t.Context(), f.leaf().SerialNumber); err != nil {
			t.Fatal(err)
		}
		if got := f.statusOf(t, b, crypto.SHA1); got != ocsp.Revoked {
			t.Fatalf("other replica answers %d after the bus message, want revoked", got)
		}
	})
	t.Run("local ttl bounds staleness", func(t *testing.T) {
		f := newFixture(t)
		b := f.replica(t, func(c *Config) { c.Local = f.localCache(t) })
		if f.statusOf(t, b, crypto.SHA1) != ocsp.Good {
			t.Fatal("want good first")
		}
		// Another replica revokes and deletes the shared answer; the
		// message never reaches b.
		f.src.set(f.leaf().SerialNumber, CertStatus{Status: Revoked, RevokedAt: time.Now()})
		if err := f.r.Invalidate(t.Context(), f.leaf().SerialNumber); err != nil {
			t.Fatal(err)
		}
		f.advance(500 * time.Millisecond)
		if got := f.statusOf(t, b, crypto.SHA1); got != ocsp.Good {
			t.Fatalf("within LocalTTL the local answer stands (got %d); the test would not show the bound", got)
		}
		f.advance(600 * time.Millisecond)
		if got := f.statusOf(t, b, crypto.SHA1); got != ocsp.Revoked {
			t.Fatalf("after LocalTTL: %d, want revoked", got)
		}
	})
	t.Run("message from itself ignored, bad messages ignored", func(t *testing.T) {
		bus := cache.NewMemory(time.Now)
		f := newFixture(t)
		a := f.replica(t, func(c *Config) { c.Bus = bus })
		if err := a.Listen(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"", "x", "other zz", "other -5", "other 0", "other " + string(make([]byte, 100))} {
			if err := bus.Publish(t.Context(), InvalidationChannel, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// failingCache fails every call, as Redis does while it is down.
type failingCache struct{ calls atomic.Int64 }

var errDown = errors.New("connection refused")

func (c *failingCache) Get(context.Context, string) ([]byte, error) {
	c.calls.Add(1)
	return nil, errDown
}
func (c *failingCache) Set(context.Context, string, []byte, time.Duration) error {
	c.calls.Add(1)
	return errDown
}
func (c *failingCache) Delete(context.Context, string) error { c.calls.Add(1); return errDown }

// TestSharedCacheDown: with the shared cache failing the responder signs
// live, leaves the cache alone for CacheBackoff, serves repeats from the
// local cache, and tries the shared cache again afterwards.
func TestSharedCacheDown(t *testing.T) {
	f := newFixture(t)
	down := &failingCache{}
	reg := prometheus.NewRegistry()
	c := Config{Issuer: f.issuer, ResponderCert: f.responder, Signer: f.key, Now: func() time.Time { return *f.now.Load() },
		Miss: errMiss, Local: f.localCache(t), Registerer: reg}
	r, err := New(c, f.src, down)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.statusOf(t, r, crypto.SHA1); got != ocsp.Good {
		t.Fatalf("status %d, want good signed live", got)
	}
	if n := down.calls.Load(); n != 1 {
		t.Fatalf("%d shared-cache calls, want 1 (the failed get, then back-off)", n)
	}
	srcCalls := f.src.calls.Load()
	for range 5 {
		if got := f.statusOf(t, r, crypto.SHA1); got != ocsp.Good {
			t.Fatalf("status %d", got)
		}
	}
	if down.calls.Load() != 1 || f.src.calls.Load() != srcCalls {
		t.Fatalf("repeats during the back-off: %d shared calls, %d lookups; want the local cache only", down.calls.Load(), f.src.calls.Load()-srcCalls)
	}
	if got := counterValue(r.m.cacheErrors); got != 1 {
		t.Errorf("cache errors metric %v, want 1", got)
	}
	f.advance(2 * time.Second)
	f.statusOf(t, r, crypto.SHA256)
	if down.calls.Load() == 1 {
		t.Fatal("shared cache not tried again after the back-off")
	}
	if err := r.Invalidate(t.Context(), f.leaf().SerialNumber); err == nil || !strings.HasPrefix(err.Error(), "responder: invalidate") {
		t.Fatalf("Invalidate error = %v", err)
	}
}

// TestShedding: with every signing slot busy, a miss waits QueueWait and
// is answered tryLater; the queue beyond MaxQueue is refused at once; the
// slot holder still gets its answer.
func TestShedding(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxSigning, c.MaxQueue, c.QueueWait = 1, 1, 50*time.Millisecond })
	block, started := make(chan struct{}), make(chan struct{})
	f.src.setHook(func(n int64) {
		if n == 1 {
			close(started)
			<-block
		}
	})
	first := make(chan []byte)
	go func() {
		der, _ := f.r.Respond(context.Background(), f.request(t, f.leaves[0], crypto.SHA1))
		first <- der
	}()
	<-started
	der, _ := f.r.Respond(t.Context(), f.request(t, f.leaves[1], crypto.SHA1))
	if got := respStatus(der); got != ocsp.TryLater {
		t.Fatalf("queued miss: status %v, want tryLater", got)
	}
	// Fill the queue with one waiter, then one more is refused at once.
	waiter := make(chan []byte)
	go func() {
		der, _ := f.r.Respond(context.Background(), f.request(t, f.leaves[1], crypto.SHA256))
		waiter <- der
	}()
	waitFor(t, "a waiter in the queue", func() bool { return f.r.waiting.Load() == 1 })
	start := time.Now()
	der, _ = f.r.Respond(t.Context(), withNonce(t, f.request(t, f.leaves[2], crypto.SHA1), wrapped(t, []byte("0123456789"))))
	if got := respStatus(der); got != ocsp.TryLater {
		t.Fatalf("beyond the queue: status %v, want tryLater", got)
	}
	if time.Since(start) > 40*time.Millisecond {
		t.Log("the refusal beyond the queue took a while; it should not wait") // no timing assertion
	}
	<-waiter
	close(block)
	if got := f.parse(t, <-first, f.leaves[0]).Status; got != ocsp.Good {
		t.Fatalf("slot holder: %d", got)
	}
	if got := counterValue(f.r.m.shed); got < 2 {
		t.Errorf("shed metric %v, want at least 2", got)
	}
}

// TestPresign: answers for both presigned hash algorithms land in the
// shared cache and are then served without a lookup; fresh ones are not
// signed again, ageing ones are; an invalidation after the page was read
// keeps its stale answer out.
func TestPresign(t *testing.T) {
	f := newFixture(t)
	entries := func() []Entry {
		var es []Entry
		for _, l := range f.leaves {
			es = append(es, Entry{Serial: l.SerialNumber, Status: CertStatus{Status: Good}})
		}
		return es
	}
	page := func(context.Context) ([]Entry, error) { return entries(), nil }
	n, err := f.r.Presign(t.Context(), page)
	if err != nil || n != 2*len(f.leaves) {
		t.Fatalf("Presign = %d, %v; want %d", n, err, 2*len(f.leaves))
	}
	calls := f.src.calls.Load()
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		if got := f.statusOf(t, f.r, h); got != ocsp.Good {
			t.Fatalf("status %d", got)
		}
	}
	if f.src.calls.Load() != calls {
		t.Fatal("a presigned answer was looked up again")
	}
	if n, _ := f.r.Presign(t.Context(), page); n != 0 {
		t.Fatalf("fresh answers signed again: %d", n)
	}
	f.advance(f.r.cfg.Validity/2 + time.Minute)
	if n, _ := f.r.Presign(t.Context(), page); n != 2*len(f.leaves) {
		t.Fatalf("ageing answers: %d signed, want %d", n, 2*len(f.leaves))
	}

	g := newFixture(t)
	serial := g.leaf().SerialNumber
	n, err = g.r.Presign(t.Context(), func(ctx context.Context) ([]Entry, error) {
		// The status was read as good; it changes before Presign stores.
		es := []Entry{{Serial: serial, Status: CertStatus{Status: Good}}}
		g.src.set(serial, CertStatus{Status: Revoked, RevokedAt: time.Now()})
		return es, g.r.Invalidate(ctx, serial)
	})
	if err != nil || n != 0 {
		t.Fatalf("Presign = %d, %v; want nothing stored", n, err)
	}
	if got := g.statusOf(t, g.r, crypto.SHA1); got != ocsp.Revoked {
		t.Fatalf("status %d after the invalidation, want revoked", got)
	}
	if _, err := g.r.Presign(t.Context(), func(context.Context) ([]Entry, error) { return nil, errDown }); !errors.Is(err, errDown) {
		t.Fatalf("page error: %v", err)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// FuzzParseInvalidation: any Bus message is either refused or yields a
// positive serial of at most 20 octets that prints back as it was sent.
func FuzzParseInvalidation(f *testing.F) {
	for _, s := range []string{"r1 1f", "abc 0", "x -5", "x +5", "x 0x10", "only", "", "r 1 2",
		"r FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "r 1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		origin, serial, ok := parseInvalidation(msg)
		if !ok {
			return
		}
		if origin == "" || serial.Sign() <= 0 || serial.BitLen() > 160 {
			t.Fatalf("accepted %q as %q %v", msg, origin, serial)
		}
		_, hexSerial, _ := strings.Cut(string(msg), " ")
		if !strings.EqualFold(strings.TrimLeft(hexSerial, "0"), serial.Text(16)) {
			t.Fatalf("%q parsed to %x", msg, serial)
		}
	})
}

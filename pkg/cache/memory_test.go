package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/cache/cachetest"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newMemory(t *testing.T, opts ...cache.MemoryOption) (*cache.Memory, *cachetest.Clock) {
	t.Helper()
	clock := cachetest.NewClock(epoch)
	m := cache.NewMemory(clock.Now, opts...)
	t.Cleanup(func() { _ = m.Close() })
	return m, clock
}

func TestMemory(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cachetest.Instance {
		m, clock := newMemory(t)
		return cachetest.Instance{Cache: m, Advance: clock.Advance}
	})
}

var _ cache.Cache = (*cache.Memory)(nil)

func TestMemoryExpiryBoundary(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, clock := newMemory(t)
	if err := m.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Incr(ctx, "n", time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second - time.Nanosecond)
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	if n, err := m.Incr(ctx, "n", time.Second); err != nil || n != 2 {
		t.Fatalf("Incr just before the window ends = %d, %v; want 2", n, err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := m.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get at expiry = %v, want ErrMiss", err)
	}
	if n, err := m.Incr(ctx, "n", time.Second); err != nil || n != 1 {
		t.Fatalf("Incr when the window ends = %d, %v; want 1", n, err)
	}
}

func TestMemorySweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, clock := newMemory(t)
	for i := range 100 {
		ttl := time.Minute
		if i%2 == 0 {
			ttl = time.Second
		}
		if err := m.Set(ctx, fmt.Sprint("k", i), []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Sweep(); got != 0 {
		t.Fatalf("Sweep before expiry removed %d entries, want 0", got)
	}
	clock.Advance(time.Second)
	if got := m.Sweep(); got != 50 {
		t.Fatalf("Sweep removed %d entries, want 50", got)
	}
	if got := m.Len(); got != 50 {
		t.Fatalf("Len after Sweep = %d, want 50", got)
	}
	if _, err := m.Get(ctx, "k1"); err != nil {
		t.Fatalf("Get(k1) after Sweep: %v", err)
	}
}

func TestMemoryBackgroundSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, clock := newMemory(t, cache.WithSweepInterval(5*time.Millisecond))
	if err := m.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for m.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("background sweeper did not remove the expired entry")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMemoryMaxEntries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const limit = 64 * 4 // 4 per shard
	m, clock := newMemory(t, cache.WithMaxEntries(limit))
	for i := range 10 * limit {
		if err := m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour+time.Duration(i)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Incr(ctx, fmt.Sprint("n", i), time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n > limit {
			t.Fatalf("after %d inserts Len = %d, want at most %d", 2*(i+1), n, limit)
		}
	}
	// The newest entry survives the eviction it caused.
	last := fmt.Sprint("n", 10*limit-1)
	if n, err := m.Incr(ctx, last, time.Hour); err != nil || n != 2 {
		t.Fatalf("Incr(%s) = %d, %v; want 2", last, n, err)
	}
	// Expired entries are evicted before live ones.
	clock.Advance(2 * time.Hour)
	if err := m.Set(ctx, "fresh", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "fresh"); err != nil {
		t.Fatalf("Get(fresh): %v", err)
	}
}

func TestMemoryEvictsExpiredFirst(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Two entries per shard, and three keys that share a shard.
	m, clock := newMemory(t, cache.WithMaxEntries(2*64))
	keys := sameShardKeys(t, 3)
	if err := m.Set(ctx, keys[0], []byte("expiring"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, keys[1], []byte("live"), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := m.Set(ctx, keys[2], []byte("new"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[1:] {
		if _, err := m.Get(ctx, k); err != nil {
			t.Fatalf("Get(%s) after eviction: %v", k, err)
		}
	}
	// And among live entries, the one closest to expiry goes.
	clock.Advance(time.Second)
	if err := m.Set(ctx, keys[0], []byte("longest"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, keys[0]); err != nil {
		t.Fatalf("Get(%s): %v", keys[0], err)
	}
	if _, err := m.Get(ctx, keys[1]); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get(%s), the entry closest to expiry = %v; want it evicted", keys[1], err)
	}
	if _, err := m.Get(ctx, keys[2]); err != nil {
		t.Fatalf("Get(%s): %v", keys[2], err)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2", m.Len())
	}
}

// sameShardKeys finds n keys that Memory puts in the same shard, probing
// through the public API: in a Memory bounded to one entry per shard, a key
// evicts another only if they share a shard.
func sameShardKeys(t *testing.T, n int) []string {
	t.Helper()
	probe := cache.NewMemory(nil, cache.WithMaxEntries(64))
	defer probe.Close()
	ctx := t.Context()
	keys := []string{"s0"}
	for i := 1; len(keys) < n && i < 100000; i++ {
		k := fmt.Sprint("s", i)
		if err := probe.Set(ctx, keys[0], []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := probe.Set(ctx, k, []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := probe.Get(ctx, keys[0]); errors.Is(err, cache.ErrMiss) {
			keys = append(keys, k)
		}
		_ = probe.Delete(ctx, k)
	}
	if len(keys) < n {
		t.Fatalf("found only %d keys sharing a shard", len(keys))
	}
	return keys
}

func TestMemoryMaxBytes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const limit = 64 << 10 // 1 KiB per shard
	m, _ := newMemory(t, cache.WithMaxBytes(limit))
	value := make([]byte, 500)
	for i := range 1000 {
		if err := m.Set(ctx, fmt.Sprint("k", i), value, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n*(500+64) > limit {
		t.Fatalf("Len = %d entries of ~%d bytes, over the %d-byte bound", n, 500+64, limit)
	}
	if err := m.Set(ctx, "huge", make([]byte, 2<<10), time.Hour); err == nil {
		t.Fatal("Set of a value over the per-shard bound succeeded")
	}
}

func TestMemoryClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := cache.NewMemory(nil, cache.WithSweepInterval(time.Millisecond))
	if err := m.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := m.Set(ctx, "k", nil, time.Hour); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Set after Close = %v, want ErrClosed", err)
	}
	if _, err := m.Incr(ctx, "n", time.Hour); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Incr after Close = %v, want ErrClosed", err)
	}
	if err := m.Ping(ctx); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
}

// TestMemoryConcurrentMixed exercises every operation from many goroutines
// at once; it is meant for -race.
func TestMemoryConcurrentMixed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, clock := newMemory(t, cache.WithMaxEntries(64*8))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 0))
			for range 2000 {
				k := fmt.Sprint("k", r.IntN(200))
				switch r.IntN(6) {
				case 0:
					_ = m.Set(ctx, k, []byte(k), time.Duration(1+r.IntN(100))*time.Millisecond)
				case 1:
					_ = m.Delete(ctx, k)
				case 2:
					_, _ = m.Incr(ctx, "n"+k, time.Second)
				case 3:
					clock.Advance(time.Millisecond)
				case 4:
					m.Sweep()
				default:
					if v, err := m.Get(ctx, k); err == nil && string(v) != k {
						t.Errorf("Get(%s) = %q", k, v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMemoryGetParallel(b *testing.B) {
	ctx := context.Background()
	m := cache.NewMemory(nil)
	defer m.Close()
	const keys = 10000
	names := make([]string, keys)
	value := make([]byte, 1500) // a typical signed OCSP response
	for i := range names {
		names[i] = fmt.Sprintf("ocsp:%040x", i)
		if err := m.Set(ctx, names[i], value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			if _, err := m.Get(ctx, names[r.IntN(keys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryMixedParallel(b *testing.B) {
	ctx := context.Background()
	m := cache.NewMemory(nil)
	defer m.Close()
	const keys = 10000
	names := make([]string, keys)
	value := make([]byte, 1500)
	for i := range names {
		names[i] = fmt.Sprintf("ocsp:%040x", i)
		_ = m.Set(ctx, names[i], value, time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			k := names[r.IntN(keys)]
			if r.IntN(10) == 0 {
				_ = m.Set(ctx, k, value, time.Hour)
			} else {
				_, _ = m.Get(ctx, k)
			}
		}
	})
}

// Package cachetest is the conformance suite every cache.Cache must pass.
//
// A backend test calls Run with a factory returning a fresh, empty cache and
// a way to move its clock forward. Memory injects a fake clock, so its
// Advance is instant; Redis expires keys on real time, so its Advance sleeps.
// Expiry assertions therefore poll (up to two seconds) instead of relying on
// exact timing, and the TTLs used are short (150 ms).
package cachetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cache"
)

// Instance is one cache under test.
type Instance struct {
	// Cache is empty when the factory returns it. The factory registers its
	// own cleanup (t.Cleanup); the suite does not call Close.
	Cache cache.Cache
	// Advance moves the cache's notion of time forward by at least d: a fake
	// clock's Advance for Memory, time.Sleep for Redis.
	Advance func(d time.Duration)
	// Sibling, when not nil, returns a second cache over the same storage
	// but a different namespace (for Redis, another key prefix); the suite
	// then checks that the two do not see each other's keys.
	Sibling func(t *testing.T) cache.Cache
}

// Factory returns a fresh Instance for the (sub)test t.
type Factory func(t *testing.T) Instance

// ShortTTL is the TTL and window the suite lets expire.
const ShortTTL = 150 * time.Millisecond

// longTTL outlives any test.
const longTTL = time.Hour

// pollFor bounds how long an expiry assertion waits for a real-time backend.
const pollFor = 2 * time.Second

// Run runs the suite against the caches newInstance makes.
func Run(t *testing.T, newInstance Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, in Instance)
	}{
		{"Miss", testMiss},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"DeleteAbsent", testDeleteAbsent},
		{"TTLExpiry", testTTLExpiry},
		{"OverwriteResetsTTL", testOverwriteResetsTTL},
		{"NonPositiveTTL", testNonPositiveTTL},
		{"IncrCounts", testIncrCounts},
		{"IncrWindowRestarts", testIncrWindowRestarts},
		{"IncrConcurrent", testIncrConcurrent},
		{"IncrReadableAsDecimal", testIncrReadable},
		{"IncrKeysIndependent", testIncrKeysIndependent},
		{"IncrNonInteger", testIncrNonInteger},
		{"LargeValue", testLargeValue},
		{"BinaryValue", testBinaryValue},
		{"EmptyValue", testEmptyValue},
		{"SetCopiesInput", testSetCopiesInput},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"Ping", testPing},
		{"KeyIsolation", testKeyIsolation},
		{"TakeOnce", testTakeOnce},
		{"TakeConcurrent", testTakeConcurrent},
		{"TakeExpired", testTakeExpired},
		{"AddIfAbsent", testAddIfAbsent},
		{"AddConcurrent", testAddConcurrent},
		{"AddAfterExpiry", testAddAfterExpiry},
		{"Bus", testBus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newInstance(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustSet(t *testing.T, c cache.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(ctx(t), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, key string, want []byte) {
	t.Helper()
	got, err := c.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, abbrev(got), abbrev(want))
	}
}

func mustMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	got, err := c.Get(ctx(t), key)
	if !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get(%q) = %s, %v; want ErrMiss", key, abbrev(got), err)
	}
}

func mustIncr(t *testing.T, c cache.Cache, key string, window time.Duration, want int64) {
	t.Helper()
	got, err := c.Incr(ctx(t), key, window)
	if err != nil {
		t.Fatalf("Incr(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Incr(%q) = %d, want %d", key, got, want)
	}
}

// eventuallyMiss polls until key misses, for backends on real time.
func eventuallyMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	deadline := time.Now().Add(pollFor)
	for {
		got, err := c.Get(ctx(t), key)
		if errors.Is(err, cache.ErrMiss) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(%q) = %s %v after expiry; want ErrMiss", key, abbrev(got), pollFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func abbrev(b []byte) string {
	if len(b) > 32 {
		return fmt.Sprintf("%q... (%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func testMiss(t *testing.T, in Instance) {
	mustMiss(t, in.Cache, "absent")
}

func testSetGet(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "k", []byte("v"), longTTL)
	mustGet(t, in.Cache, "k", []byte("v"))
	mustMiss(t, in.Cache, "K")
}

func testOverwrite(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "k", []byte("first"), longTTL)
	mustSet(t, in.Cache, "k", []byte("second"), longTTL)
	mustGet(t, in.Cache, "k", []byte("second"))
}

func testDelete(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "k", []byte("v"), longTTL)
	mustSet(t, in.Cache, "other", []byte("w"), longTTL)
	if err := in.Cache.Delete(ctx(t), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustMiss(t, in.Cache, "k")
	mustGet(t, in.Cache, "other", []byte("w"))
}

func testDeleteAbsent(t *testing.T, in Instance) {
	if err := in.Cache.Delete(ctx(t), "absent"); err != nil {
		t.Fatalf("Delete(absent) = %v, want nil", err)
	}
}

func testTTLExpiry(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "short", []byte("v"), ShortTTL)
	mustSet(t, in.Cache, "long", []byte("w"), longTTL)
	in.Advance(ShortTTL)
	eventuallyMiss(t, in.Cache, "short")
	mustGet(t, in.Cache, "long", []byte("w"))
}

func testOverwriteResetsTTL(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "k", []byte("old"), ShortTTL)
	mustSet(t, in.Cache, "k", []byte("new"), longTTL)
	in.Advance(ShortTTL)
	// Let a real-time backend pass the first TTL comfortably.
	in.Advance(ShortTTL)
	mustGet(t, in.Cache, "k", []byte("new"))
}

func testNonPositiveTTL(t *testing.T, in Instance) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := in.Cache.Set(ctx(t), "k", []byte("v"), ttl); err == nil {
			t.Errorf("Set with ttl %v succeeded, want an error", ttl)
		}
		if _, err := in.Cache.Incr(ctx(t), "n", ttl); err == nil {
			t.Errorf("Incr with window %v succeeded, want an error", ttl)
		}
	}
	mustMiss(t, in.Cache, "k")
	mustMiss(t, in.Cache, "n")
}

func testIncrCounts(t *testing.T, in Instance) {
	for i := int64(1); i <= 10; i++ {
		mustIncr(t, in.Cache, "n", longTTL, i)
	}
}

func testIncrWindowRestarts(t *testing.T, in Instance) {
	mustIncr(t, in.Cache, "n", ShortTTL, 1)
	mustIncr(t, in.Cache, "n", ShortTTL, 2)
	mustIncr(t, in.Cache, "n", ShortTTL, 3)
	in.Advance(ShortTTL)
	eventuallyMiss(t, in.Cache, "n")
	mustIncr(t, in.Cache, "n", ShortTTL, 1)
	mustIncr(t, in.Cache, "n", ShortTTL, 2)
	// The restarted counter has a window of its own.
	in.Advance(ShortTTL)
	eventuallyMiss(t, in.Cache, "n")
	mustIncr(t, in.Cache, "n", ShortTTL, 1)
}

func testIncrConcurrent(t *testing.T, in Instance) {
	const n = 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []int64
		errs []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			v, err := in.Cache.Incr(ctx(t), "n", longTTL)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			got = append(got, v)
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d concurrent Incr calls failed, first: %v", len(errs), errs[0])
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("concurrent Incr values = %v, want exactly 1..%d", got, n)
		}
	}
	mustIncr(t, in.Cache, "n", longTTL, n+1)
}

func testIncrReadable(t *testing.T, in Instance) {
	mustIncr(t, in.Cache, "n", longTTL, 1)
	mustIncr(t, in.Cache, "n", longTTL, 2)
	mustGet(t, in.Cache, "n", []byte("2"))
}

func testIncrKeysIndependent(t *testing.T, in Instance) {
	mustIncr(t, in.Cache, "a", longTTL, 1)
	mustIncr(t, in.Cache, "a", longTTL, 2)
	mustIncr(t, in.Cache, "b", longTTL, 1)
	if err := in.Cache.Delete(ctx(t), "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustIncr(t, in.Cache, "a", longTTL, 1)
	mustIncr(t, in.Cache, "b", longTTL, 2)
}

func testLargeValue(t *testing.T, in Instance) {
	v := make([]byte, 100<<10)
	for i := range v {
		v[i] = byte(i * 7)
	}
	mustSet(t, in.Cache, "large", v, longTTL)
	mustGet(t, in.Cache, "large", v)
}

func testBinaryValue(t *testing.T, in Instance) {
	v := []byte{0, 0xff, 0, '\r', '\n', 0, 0x80, 0}
	mustSet(t, in.Cache, "bin", v, longTTL)
	mustGet(t, in.Cache, "bin", v)
	// Keys with unusual bytes work too.
	key := "k\x00 \n*?[]é"
	mustSet(t, in.Cache, key, []byte("x"), longTTL)
	mustGet(t, in.Cache, key, []byte("x"))
	mustMiss(t, in.Cache, "k")
}

func testEmptyValue(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "empty", []byte{}, longTTL)
	got, err := in.Cache.Get(ctx(t), "empty")
	if err != nil || len(got) != 0 {
		t.Fatalf("Get(empty) = %q, %v; want an empty value", got, err)
	}
}

func testSetCopiesInput(t *testing.T, in Instance) {
	v := []byte("original")
	mustSet(t, in.Cache, "k", v, longTTL)
	copy(v, "MUTATED!")
	mustGet(t, in.Cache, "k", []byte("original"))
}

func testGetReturnsCopy(t *testing.T, in Instance) {
	mustSet(t, in.Cache, "k", []byte("original"), longTTL)
	got, err := in.Cache.Get(ctx(t), "k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(got, "MUTATED!")
	mustGet(t, in.Cache, "k", []byte("original"))
}

func testPing(t *testing.T, in Instance) {
	if err := in.Cache.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testKeyIsolation(t *testing.T, in Instance) {
	if in.Sibling == nil {
		t.Skip("backend has no shared storage to isolate")
	}
	a, b := in.Cache, in.Sibling(t)
	mustSet(t, a, "k", []byte("a"), longTTL)
	mustMiss(t, b, "k")
	mustSet(t, b, "k", []byte("b"), longTTL)
	mustGet(t, a, "k", []byte("a"))
	mustGet(t, b, "k", []byte("b"))
	mustIncr(t, a, "n", longTTL, 1)
	mustIncr(t, b, "n", longTTL, 1)
	mustIncr(t, a, "n", longTTL, 2)
	if err := b.Delete(ctx(t), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustGet(t, a, "k", []byte("a"))
	mustMiss(t, b, "k")
}

func testIncrNonInteger(t *testing.T, in Instance) {
	for _, v := range []string{"abc", "", "1.5", "9223372036854775807"} {
		mustSet(t, in.Cache, "k", []byte(v), longTTL)
		if n, err := in.Cache.Incr(ctx(t), "k", longTTL); err == nil {
			t.Errorf("Incr on value %q = %d, want an error", v, n)
		}
		mustGet(t, in.Cache, "k", []byte(v))
	}
}

// Clock is a fake clock for backends that take one (cache.NewMemory):
// pass c.Now, and use c.Advance as Instance.Advance. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testTakeOnce(t *testing.T, in Instance) {
	c := in.Cache
	mustSet(t, c, "code", []byte("grant"), longTTL)
	got, err := c.Take(ctx(t), "code")
	if err != nil || string(got) != "grant" {
		t.Fatalf("Take = %q, %v; want grant", got, err)
	}
	if got, err := c.Take(ctx(t), "code"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("second Take = %q, %v; want ErrMiss", got, err)
	}
	mustMiss(t, c, "code")
	if _, err := c.Take(ctx(t), "never"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Take(absent) = %v; want ErrMiss", err)
	}
}

func testTakeConcurrent(t *testing.T, in Instance) {
	c := in.Cache
	mustSet(t, c, "once", []byte("v"), longTTL)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Take(ctx(t), "once")
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, cache.ErrMiss) {
				t.Errorf("Take: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent Takes got the value; want exactly 1", wins)
	}
}

func testTakeExpired(t *testing.T, in Instance) {
	c := in.Cache
	mustSet(t, c, "short", []byte("v"), ShortTTL)
	in.Advance(ShortTTL + 50*time.Millisecond)
	eventuallyMiss(t, c, "short")
	if _, err := c.Take(ctx(t), "short"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Take(expired) = %v; want ErrMiss", err)
	}
}

func testAddIfAbsent(t *testing.T, in Instance) {
	c := in.Cache
	ok, err := c.Add(ctx(t), "jti", []byte("1"), longTTL)
	if err != nil || !ok {
		t.Fatalf("first Add = %v, %v; want true", ok, err)
	}
	ok, err = c.Add(ctx(t), "jti", []byte("2"), longTTL)
	if err != nil || ok {
		t.Fatalf("second Add = %v, %v; want false", ok, err)
	}
	mustGet(t, c, "jti", []byte("1"))
	if _, err := c.Add(ctx(t), "bad", []byte("1"), 0); err == nil {
		t.Fatal("Add with zero ttl succeeded")
	}
}

func testAddConcurrent(t *testing.T, in Instance) {
	c := in.Cache
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := c.Add(ctx(t), "race", []byte(fmt.Sprint(i)), longTTL)
			if err != nil {
				t.Errorf("Add: %v", err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent Adds won; want exactly 1", wins)
	}
}

func testAddAfterExpiry(t *testing.T, in Instance) {
	c := in.Cache
	if ok, err := c.Add(ctx(t), "k", []byte("1"), ShortTTL); err != nil || !ok {
		t.Fatalf("Add = %v, %v", ok, err)
	}
	in.Advance(ShortTTL + 50*time.Millisecond)
	eventuallyMiss(t, c, "k")
	if ok, err := c.Add(ctx(t), "k", []byte("2"), longTTL); err != nil || !ok {
		t.Fatalf("Add after expiry = %v, %v; want true", ok, err)
	}
	mustGet(t, c, "k", []byte("2"))
}

// testBus: every subscriber of a channel gets each message published after
// Subscribe returned, byte for byte, in some order; other channels, other namespaces and
// cancelled subscriptions get nothing.
func testBus(t *testing.T, in Instance) {
	b, ok := in.Cache.(cache.Bus)
	if !ok {
		t.Skip("this cache is not a Bus")
	}
	type inbox struct {
		mu  sync.Mutex
		got []string
	}
	listen := func(b cache.Bus, ctx context.Context, channel string) *inbox {
		in := &inbox{}
		if err := b.Subscribe(ctx, channel, func(m []byte) {
			in.mu.Lock()
			in.got = append(in.got, string(m))
			in.mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
		return in
	}
	read := func(in *inbox) []string {
		in.mu.Lock()
		defer in.mu.Unlock()
		return append([]string(nil), in.got...)
	}
	a1 := listen(b, ctx(t), "news")
	a2 := listen(b, ctx(t), "news")
	other := listen(b, ctx(t), "other")
	cctx, cancel := context.WithCancel(ctx(t))
	gone := listen(b, cctx, "news")
	cancel()
	var sib *inbox
	if in.Sibling != nil {
		if sb, ok := in.Sibling(t).(cache.Bus); ok {
			sib = listen(sb, ctx(t), "news")
		}
	}
	time.Sleep(50 * time.Millisecond) // the cancelled subscription winds down
	msgs := []string{"first", "\x00binary\xff", "third"}
	for _, m := range msgs {
		if err := b.Publish(ctx(t), "news", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(pollFor)
	for len(read(a1)) < len(msgs) || len(read(a2)) < len(msgs) {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers got %q and %q, want %q", read(a1), read(a2), msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Order is not promised: on Redis Cluster messages published through
	// different nodes may arrive in either order.
	want := append([]string(nil), msgs...)
	sort.Strings(want)
	for _, got := range [][]string{read(a1), read(a2)} {
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if got := read(other); len(got) != 0 {
		t.Errorf("another channel got %q", got)
	}
	if got := read(gone); len(got) != 0 {
		t.Errorf("a cancelled subscription got %q", got)
	}
	if sib != nil {
		if got := read(sib); len(got) != 0 {
			t.Errorf("another namespace got %q", got)
		}
	}
}

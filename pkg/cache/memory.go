package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Memory methods called after Close.
var ErrClosed = errors.New("cache: closed")

const (
	shardCount = 64 // a power of two; keys are spread by FNV-1a

	// DefaultMaxEntries bounds a Memory created without WithMaxEntries.
	DefaultMaxEntries = 1 << 20
	// DefaultMaxBytes bounds a Memory created without WithMaxBytes.
	DefaultMaxBytes = 256 << 20

	// entryOverhead approximates the bookkeeping bytes of one entry (map
	// slot, slice header, expiry) for the byte bound.
	entryOverhead = 64

	// evictionSamples is how many entries an insert into a full shard looks
	// at to choose a victim.
	evictionSamples = 8
)

// Memory is an in-process Cache for a single node. It is built for the OCSP
// hot path: keys are spread over 64 shards, each behind its own RWMutex, so
// concurrent Gets of different keys rarely contend and Gets of the same key
// share a read lock.
//
// Expiry is checked on read, so an expired entry is never returned; it keeps
// its memory until it is overwritten, evicted, or removed by Sweep (call it
// periodically, or use WithSweepInterval).
//
// Memory is bounded by a number of entries and a number of bytes (key plus
// value plus a fixed overhead per entry); see WithMaxEntries and
// WithMaxBytes. Both bounds are enforced per shard (each shard holds at most
// 1/64 of each, rounded up), so the total may briefly fall short of the
// configured numbers when keys are unevenly spread, but never exceeds them
// by more than the rounding. When an insert finds its shard full, it samples
// a few entries of the shard: expired ones are dropped, and if none is
// expired, the sampled entry closest to expiry is evicted. Losing entries is
// acceptable by the package contract: they can be recomputed.
//
// Values are copied in both directions: Set stores a copy of its argument
// and Get returns a fresh copy that the caller may modify freely.
//
// The context arguments are not consulted: no Memory operation blocks.
type Memory struct {
	now         func() time.Time
	maxEntries  int // per shard
	maxBytes    int // per shard
	closed      atomic.Bool
	closeOnce   sync.Once
	stopSweeper chan struct{}
	sweeperDone chan struct{}
	shards      [shardCount]shard
	bus         bus
}

type shard struct {
	mu    sync.RWMutex
	m     map[string]entry
	bytes int      // sum of entrySize over m
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type entry struct {
	value   []byte
	expires int64 // UnixNano; the entry is expired when now >= expires
}

func entrySize(key string, value []byte) int {
	return len(key) + len(value) + entryOverhead
}

// MemoryOption configures NewMemory.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	maxEntries    int
	maxBytes      int
	sweepInterval time.Duration
}

// WithMaxEntries bounds the number of entries (default DefaultMaxEntries).
// Values below 1 select the default.
func WithMaxEntries(n int) MemoryOption {
	return func(c *memoryConfig) { c.maxEntries = n }
}

// WithMaxBytes bounds the memory held by entries, counted as key length plus
// value length plus a fixed per-entry overhead (default DefaultMaxBytes).
// Values below 1 select the default. A single value larger than the per-shard
// share (1/64 of the bound) is refused by Set.
func WithMaxBytes(n int) MemoryOption {
	return func(c *memoryConfig) { c.maxBytes = n }
}

// WithSweepInterval starts a background goroutine that calls Sweep every d
// until Close. Zero or negative d (the default) starts no goroutine.
func WithSweepInterval(d time.Duration) MemoryOption {
	return func(c *memoryConfig) { c.sweepInterval = d }
}

// NewMemory returns an empty Memory reading the time from now (time.Now
// when nil); injecting now lets tests expire entries without sleeping.
func NewMemory(now func() time.Time, opts ...MemoryOption) *Memory {
	if now == nil {
		now = time.Now
	}
	cfg := memoryConfig{maxEntries: DefaultMaxEntries, maxBytes: DefaultMaxBytes}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxEntries < 1 {
		cfg.maxEntries = DefaultMaxEntries
	}
	if cfg.maxBytes < 1 {
		cfg.maxBytes = DefaultMaxBytes
	}
	m := &Memory{
		now:        now,
		maxEntries: ceilDiv(cfg.maxEntries, shardCount),
		maxBytes:   ceilDiv(cfg.maxBytes, shardCount),
	}
	for i := range m.shards {
		m.shards[i].m = make(map[string]entry)
	}
	if cfg.sweepInterval > 0 {
		m.stopSweeper = make(chan struct{})
		m.sweeperDone = make(chan struct{})
		go m.sweepLoop(cfg.sweepInterval)
	}
	return m
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (m *Memory) shardFor(key string) *shard {
	// FNV-1a, 32 bits, inlined to avoid hash.Hash allocations.
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &m.shards[h&(shardCount-1)]
}

// Get returns a copy of the value stored under key, or ErrMiss.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	now := m.now().UnixNano()
	s := m.shardFor(key)
	s.mu.RLock()
	e, ok := s.m[key]
	if !ok || now >= e.expires {
		s.mu.RUnlock()
		return nil, ErrMiss
	}
	v := make([]byte, len(e.value))
	copy(v, e.value)
	s.mu.RUnlock()
	return v, nil
}

// Set stores a copy of value under key for ttl, which must be positive.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if ttl <= 0 {
		return fmt.Errorf("cache: set %q: ttl %v is not positive", key, ttl)
	}
	if size := entrySize(key, value); size > m.maxBytes {
		return fmt.Errorf("cache: set %q: entry of %d bytes exceeds the per-shard memory bound of %d bytes", key, size, m.maxBytes)
	}
	v := make([]byte, len(value))
	copy(v, value)
	now := m.now().UnixNano()
	s := m.shardFor(key)
	s.mu.Lock()
	s.store(key, entry{value: v, expires: addDuration(now, ttl)}, now, m.maxEntries, m.maxBytes)
	s.mu.Unlock()
	return nil
}

// Delete removes key; deleting an absent key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	if m.closed.Load() {
		return ErrClosed
	}
	s := m.shardFor(key)
	s.mu.Lock()
	s.remove(key)
	s.mu.Unlock()
	return nil
}

// Take returns the value under key and removes it, or ErrMiss.
func (m *Memory) Take(_ context.Context, key string) ([]byte, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	now := m.now().UnixNano()
	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, ErrMiss
	}
	s.remove(key)
	if now >= e.expires {
		return nil, ErrMiss
	}
	return e.value, nil
}

// Add stores a copy of value under key for ttl unless a live entry is
// there, and reports whether it stored.
func (m *Memory) Add(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if m.closed.Load() {
		return false, ErrClosed
	}
	if ttl <= 0 {
		return false, fmt.Errorf("cache: add %q: ttl %v is not positive", key, ttl)
	}
	if size := entrySize(key, value); size > m.maxBytes {
		return false, fmt.Errorf("cache: add %q: entry of %d bytes exceeds the per-shard memory bound of %d bytes", key, size, m.maxBytes)
	}
	v := make([]byte, len(value))
	copy(v, value)
	now := m.now().UnixNano()
	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok && now < e.expires {
		return false, nil
	}
	s.store(key, entry{value: v, expires: addDuration(now, ttl)}, now, m.maxEntries, m.maxBytes)
	return true, nil
}

// Incr adds one to the counter under key and returns the new value. The
// first increment (or the first after the window ran out) stores 1 with
// expiry now+window; later increments keep that expiry. The counter is
// stored as a decimal string, as on Redis, so Get returns e.g. "3", and Incr
// on a key holding a non-integer value is an error.
func (m *Memory) Incr(_ context.Context, key string, window time.Duration) (int64, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	if window <= 0 {
		return 0, fmt.Errorf("cache: incr %q: window %v is not positive", key, window)
	}
	now := m.now().UnixNano()
	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || now >= e.expires {
		s.store(key, entry{value: []byte{'1'}, expires: addDuration(now, window)}, now, m.maxEntries, m.maxBytes)
		return 1, nil
	}
	n, err := strconv.ParseInt(string(e.value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cache: incr %q: value is not an integer", key)
	}
	if n == math.MaxInt64 {
		return 0, fmt.Errorf("cache: incr %q: counter would overflow", key)
	}
	n++
	s.store(key, entry{value: strconv.AppendInt(nil, n, 10), expires: e.expires}, now, m.maxEntries, m.maxBytes)
	return n, nil
}

// Ping reports ErrClosed after Close, nil otherwise.
func (m *Memory) Ping(context.Context) error {
	if m.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close stops the background sweeper, if any, and drops every entry. Later
// calls return ErrClosed; Close itself is idempotent.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		if m.stopSweeper != nil {
			close(m.stopSweeper)
			<-m.sweeperDone
		}
		for i := range m.shards {
			s := &m.shards[i]
			s.mu.Lock()
			s.m = make(map[string]entry)
			s.bytes = 0
			s.mu.Unlock()
		}
	})
	return nil
}

// Sweep removes every expired entry and returns how many it removed. It
// locks one shard at a time, so it does not stall the whole cache.
func (m *Memory) Sweep() int {
	removed := 0
	for i := range m.shards {
		s := &m.shards[i]
		now := m.now().UnixNano()
		s.mu.Lock()
		for k, e := range s.m {
			if now >= e.expires {
				s.remove(k)
				removed++
			}
		}
		s.mu.Unlock()
	}
	return removed
}

// Len returns the number of entries held, expired ones included until they
// are swept or evicted.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

func (m *Memory) sweepLoop(d time.Duration) {
	defer close(m.sweeperDone)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-m.stopSweeper:
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

// store puts e under key, evicting other entries first if the shard would
// exceed its bounds. The caller holds s.mu for writing.
func (s *shard) store(key string, e entry, now int64, maxEntries, maxBytes int) {
	size := entrySize(key, e.value)
	if old, ok := s.m[key]; ok {
		s.bytes -= entrySize(key, old.value)
		delete(s.m, key)
	}
	for len(s.m) > 0 && (len(s.m)+1 > maxEntries || s.bytes+size > maxBytes) {
		s.evict(now)
	}
	s.m[key] = e
	s.bytes += size
}

// evict removes at least one entry: every expired entry among a few sampled
// ones, or else the sampled entry closest to expiry. Map iteration starts at
// a random position, which makes the sample random enough for a cache.
func (s *shard) evict(now int64) {
	var victim string
	var victimExpires int64
	haveVictim, removed, seen := false, false, 0
	for k, e := range s.m {
		if now >= e.expires {
			s.remove(k)
			removed = true
		} else if !haveVictim || e.expires < victimExpires {
			victim, victimExpires, haveVictim = k, e.expires, true
		}
		seen++
		if seen >= evictionSamples {
			break
		}
	}
	if !removed && haveVictim {
		s.remove(victim)
	}
}

func (s *shard) remove(key string) {
	if e, ok := s.m[key]; ok {
		s.bytes -= entrySize(key, e.value)
		delete(s.m, key)
	}
}

// addDuration returns now+d in UnixNano, saturating instead of overflowing.
func addDuration(now int64, d time.Duration) int64 {
	if d > 0 && now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

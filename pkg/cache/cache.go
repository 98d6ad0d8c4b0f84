// Package cache keeps Yagona's ephemeral state: attempt counters for one-time
// codes, rate-limit counters, signed OCSP responses, login sessions,
// challenges, authorization codes and replay guards. Nothing here must
// survive a restart; losing an entry costs at most a recomputation.
//
// Two implementations satisfy Cache: Memory, in-process for a single node,
// and Redis (github.com/redis/go-redis/v9), shared by replicas. cachetest.Run
// is the suite both pass.
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache: miss")

// ErrUnavailable is wrapped by every error of a shared cache that could
// not be reached or did not answer (Redis down, a timeout): the caller
// degrades or answers 503, never 500.
var ErrUnavailable = errors.New("cache: unavailable")

// Cache is the ephemeral-state contract. Every method is safe for concurrent
// use; on Redis, across processes.
type Cache interface {
	// Get returns the value stored under key, or ErrMiss. The slice is the
	// caller's: modifying it does not change the stored value.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (which must be positive). It
	// copies value: the caller may reuse the slice afterwards.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Take atomically returns and removes the value under key, or ErrMiss:
	// of any number of concurrent Takes of one key, at most one gets the
	// value. Single-use things (authorization codes, login challenges) are
	// redeemed with it.
	Take(ctx context.Context, key string) ([]byte, error)
	// Add stores value under key for ttl only if key is absent (or
	// expired), and reports whether it did: of concurrent Adds of one key,
	// exactly one wins. Replay guards (JWT IDs) use it.
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Incr atomically adds one to the counter under key and returns the new
	// value. The first increment starts a window of length window after
	// which the counter disappears (a fixed-window counter).
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
	// Ping checks that the cache answers.
	Ping(ctx context.Context) error
	// Close releases the cache.
	Close() error
}

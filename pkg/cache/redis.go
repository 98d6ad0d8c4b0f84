package cache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Cache shared by replicas, stored in Redis under a key prefix so
// that several deployments (or tests) can share one database.
//
// Get returns a fresh slice the caller may modify. Expiry is Redis's own,
// with millisecond resolution: durations are rounded up to whole
// milliseconds.
type Redis struct {
	client redis.UniversalClient
	prefix string
	owned  bool // Close closes client
}

// incrScript increments KEYS[1] and, when the key has no expiry (it was just
// created, or was somehow left without a TTL), sets one of ARGV[1] ms. Being
// a script it runs atomically: no crash or concurrent caller can observe, or
// leave behind, a counter without a TTL. It needs nothing newer than
// Redis 2.6.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// NewRedis returns a Redis cache over client, prefixing every key with
// prefix (e.g. "yagona:"). The caller keeps ownership of client: Close does
// not close it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// OpenRedis connects to the Redis server named by rawURL
// (redis://[user:password@]host:port/db, rediss:// for TLS, or
// unix:///path?db=N), checks that it answers, and returns a Redis cache that
// owns the connection: Close closes it. Errors never include the password.
func OpenRedis(ctx context.Context, rawURL string, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: parse redis url: %w", redactURLError(err))
	}
	failFast(rawURL, &opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout, &opts.MaxRetries)
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("cache: connect to redis at %s: %w", opts.Addr, err)
	}
	return &Redis{client: client, prefix: prefix, owned: true}, nil
}

// OpenRedisCluster connects to a Redis Cluster named by rawURL,
// redis-cluster://[user:password@]host:port?addr=host2:port&addr=host3:port
// (rediss-cluster:// for TLS; the other query parameters are go-redis's
// ParseClusterURL ones), checks that every shard answers, and returns a
// Redis cache that owns the client. Every operation of this package
// touches one key (scripts declare it in KEYS), so keys spread over all
// slots without hash tags; PUBLISH reaches subscribers on every node.
func OpenRedisCluster(ctx context.Context, rawURL string, prefix string) (*Redis, error) {
	var u string
	switch {
	case strings.HasPrefix(rawURL, "redis-cluster://"):
		u = "redis://" + strings.TrimPrefix(rawURL, "redis-cluster://")
	case strings.HasPrefix(rawURL, "rediss-cluster://"):
		u = "rediss://" + strings.TrimPrefix(rawURL, "rediss-cluster://")
	default:
		return nil, errors.New("cache: a cluster URL starts with redis-cluster:// or rediss-cluster://")
	}
	opts, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, fmt.Errorf("cache: parse redis cluster url: %w", redactURLError(err))
	}
	failFast(u, &opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout, &opts.MaxRetries)
	client := redis.NewClusterClient(opts)
	if err := client.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		return c.Ping(ctx).Err()
	}); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("cache: connect to redis cluster at %v: %w", opts.Addrs, err)
	}
	return &Redis{client: client, prefix: prefix, owned: true}, nil
}

// failFast shortens go-redis's defaults (5 s to dial, 3 s to read, three
// retries) where the URL does not set them: everything here is a cache,
// and a caller is better served by a quick error it can degrade on (the
// OCSP responder signs live, login answers 503) than by a request that
// hangs while Redis is away. One retry still covers a pooled connection
// that Redis closed when it restarted.
func failFast(rawURL string, dial, read, write, pool *time.Duration, retries *int) {
	q := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	for _, d := range []struct {
		param string
		to    *time.Duration
		def   time.Duration
	}{{"dial_timeout", dial, time.Second}, {"read_timeout", read, time.Second},
		{"write_timeout", write, time.Second}, {"pool_timeout", pool, 2 * time.Second}} {
		if !q.Has(d.param) {
			*d.to = d.def
		}
	}
	if !q.Has("max_retries") {
		*retries = 1
	}
}

// redactURLError strips the URL, which may carry a password, from the
// errors of url.Parse.
func redactURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("invalid url: %w", uerr.Err)
	}
	return err
}

func (r *Redis) key(k string) string { return r.prefix + k }

// Get returns the value stored under key, or ErrMiss.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("cache: redis get %q: %w: %w", key, ErrUnavailable, err)
	}
	return v, nil
}

// Set stores value under key for ttl (SET key value PX ms).
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache: set %q: ttl %v is not positive", key, ttl)
	}
	err := r.client.Do(ctx, "set", r.key(key), value, "px", millis(ttl)).Err()
	if err != nil {
		return fmt.Errorf("cache: redis set %q: %w: %w", key, ErrUnavailable, err)
	}
	return nil
}

// Delete removes key; deleting an absent key is not an error.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.key(key)).Err(); err != nil {
		return fmt.Errorf("cache: redis delete %q: %w: %w", key, ErrUnavailable, err)
	}
	return nil
}

// Take returns and deletes the value under key (GETDEL, Redis 6.2+).
func (r *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.GetDel(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("cache: redis take %q: %w: %w", key, ErrUnavailable, err)
	}
	return v, nil
}

// Add stores value under key for ttl if the key is absent (SET NX PX).
func (r *Redis) Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("cache: add %q: ttl %v is not positive", key, ttl)
	}
	err := r.client.Do(ctx, "set", r.key(key), value, "nx", "px", millis(ttl)).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cache: redis add %q: %w: %w", key, ErrUnavailable, err)
	}
	return true, nil
}

// Incr atomically increments the counter under key; the increment that
// creates the counter also gives it a TTL of window (see incrScript).
func (r *Redis) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, fmt.Errorf("cache: incr %q: window %v is not positive", key, window)
	}
	n, err := incrScript.Run(ctx, r.client, []string{r.key(key)}, millis(window)).Int64()
	if err != nil {
		return 0, fmt.Errorf("cache: redis incr %q: %w: %w", key, ErrUnavailable, err)
	}
	return n, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cache: redis ping: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close closes the connection if OpenRedis made it; a client passed to
// NewRedis is left to its owner.
func (r *Redis) Close() error {
	if !r.owned {
		return nil
	}
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("cache: close redis: %w", err)
	}
	return nil
}

// millis rounds d up to whole milliseconds, Redis's expiry resolution.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/cache/cachetest"
)

const redisURLEnv = "YAGONA_TEST_REDIS_URL"

var _ cache.Cache = (*cache.Redis)(nil)

// redisURL returns the test server's URL or skips the test.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(redisURLEnv)
	if u == "" {
		t.Skip("Redis tests disabled; set " + redisURLEnv + "=redis://127.0.0.1:6379/0 to run them")
	}
	return u
}

// redisClient connects to the test server and closes the client when t ends.
func redisClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatalf("%s: %v", redisURLEnv, err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", opts.Addr, err)
	}
	return client
}

// testPrefix returns a key prefix no other test run uses, and deletes every
// key under it when t ends. Tests never FLUSHDB: the database may be shared.
func testPrefix(t *testing.T, client redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "yagona-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	return prefix
}

func deletePrefix(t *testing.T, client redis.UniversalClient, prefix string) {
	// The test's context is already cancelled during cleanup.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("delete %d keys under %s: %v", len(keys), prefix, err)
		}
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestRedis(t *testing.T) {
	redisURL(t)
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cachetest.Instance {
		client := redisClient(t)
		return cachetest.Instance{
			Cache:   cache.NewRedis(client, testPrefix(t, client)),
			Advance: time.Sleep,
			Sibling: func(t *testing.T) cache.Cache {
				return cache.NewRedis(client, testPrefix(t, client))
			},
		}
	})
}

func TestRedisKeysArePrefixed(t *testing.T) {
	redisURL(t)
	t.Parallel()
	ctx := t.Context()
	client := redisClient(t)
	prefix := testPrefix(t, client)
	c := cache.NewRedis(client, prefix)
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Incr(ctx, "n", time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := client.Get(ctx, prefix+"k").Result(); err != nil || got != "v" {
		t.Fatalf("GET %sk = %q, %v; want v", prefix, got, err)
	}
	// Both TTLs are set, in milliseconds.
	for _, k := range []string{"k", "n"} {
		ttl, err := client.PTTL(ctx, prefix+k).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("PTTL %s%s = %v, %v; want in (0, 1m]", prefix, k, ttl, err)
		}
	}
}

// TestRedisIncrHealsMissingTTL checks that a counter left without a TTL
// (which Incr itself never produces) gets one at the next increment rather
// than counting forever.
func TestRedisIncrHealsMissingTTL(t *testing.T) {
	redisURL(t)
	t.Parallel()
	ctx := t.Context()
	client := redisClient(t)
	prefix := testPrefix(t, client)
	c := cache.NewRedis(client, prefix)
	if err := client.Set(ctx, prefix+"n", "7", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Incr(ctx, "n", time.Minute); err != nil || n != 8 {
		t.Fatalf("Incr = %d, %v; want 8", n, err)
	}
	if ttl, err := client.PTTL(ctx, prefix+"n").Result(); err != nil || ttl <= 0 {
		t.Fatalf("PTTL after Incr = %v, %v; want a TTL", ttl, err)
	}
}

func TestRedisSubMillisecondTTL(t *testing.T) {
	redisURL(t)
	t.Parallel()
	ctx := t.Context()
	client := redisClient(t)
	c := cache.NewRedis(client, testPrefix(t, client))
	if err := c.Set(ctx, "k", []byte("v"), time.Microsecond); err != nil {
		t.Fatalf("Set with a 1µs ttl (rounded up to 1ms): %v", err)
	}
	if _, err := c.Incr(ctx, "n", time.Microsecond); err != nil {
		t.Fatalf("Incr with a 1µs window (rounded up to 1ms): %v", err)
	}
}

func TestOpenRedis(t *testing.T) {
	u := redisURL(t)
	t.Parallel()
	ctx := t.Context()
	c, err := cache.OpenRedis(ctx, u, "yagona-test:open:")
	if err != nil {
		t.Fatalf("OpenRedis: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded; OpenRedis should own its client")
	}
}

// TestOpenRedisErrors needs no server.
func TestOpenRedisErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, u := range []string{
		"redis://:s3cret@127.0.0.1:1/0",        // nothing listens on port 1
		"redis://:s3cret@127.0.0.1:bad port/0", // url.Parse fails
		"http://:s3cret@127.0.0.1:6379/0",      // wrong scheme
		"redis://:s3cret@127.0.0.1:6379/x",     // bad database
	} {
		c, err := cache.OpenRedis(ctx, u, "p:")
		if err == nil {
			_ = c.Close()
			t.Errorf("OpenRedis(%q) succeeded", u)
			continue
		}
		if !strings.HasPrefix(err.Error(), "cache: ") {
			t.Errorf("OpenRedis(%q) error %q lacks the package prefix", u, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenRedis(%q) error reveals the password: %v", u, err)
		}
	}
}

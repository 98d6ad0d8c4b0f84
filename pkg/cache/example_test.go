package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yagona/yagona/pkg/cache"
)

// A single-node cache: a value with a lifetime, a single-use code redeemed
// with Take, and a rate-limit counter.
func ExampleNewMemory() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := cache.NewMemory(func() time.Time { return now })
	defer c.Close()

	_ = c.Set(ctx, "session:42", []byte("pinfl=41111111111111"), time.Minute)
	v, _ := c.Get(ctx, "session:42")
	fmt.Printf("get: %s\n", v)

	_ = c.Set(ctx, "code:abc", []byte("authorization"), time.Minute)
	v, _ = c.Take(ctx, "code:abc")
	_, err := c.Take(ctx, "code:abc")
	fmt.Printf("take: %s, then miss: %v\n", v, errors.Is(err, cache.ErrMiss))

	for range 3 {
		n, _ := c.Incr(ctx, "login-attempts:41111111111111", time.Hour)
		fmt.Println("attempt", n)
	}

	now = now.Add(2 * time.Minute) // the session's minute is over
	_, err = c.Get(ctx, "session:42")
	fmt.Println("expired:", errors.Is(err, cache.ErrMiss))
	// Output:
	// get: pinfl=41111111111111
	// take: authorization, then miss: true
	// attempt 1
	// attempt 2
	// attempt 3
	// expired: true
}

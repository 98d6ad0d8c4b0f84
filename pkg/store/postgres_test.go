package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
)

func TestPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip("PostgreSQL tests disabled; set " + storetest.PostgresEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	urls := map[store.Store]string{}
	open := func(t *testing.T, u string) store.Store {
		s, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		urls[s] = u
		return s
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, storetest.PostgresURL(t))
	}, func(t *testing.T, s store.Store) store.Store {
		return open(t, urls[s])
	})
}

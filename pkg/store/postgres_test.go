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

// TestPostgresConcurrentOpen starts replicas at once on an empty schema: the
// migration lock lets one migrate and the others find the schema ready.
func TestPostgresConcurrentOpen(t *testing.T) {
	u := storetest.PostgresURL(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := store.Open(context.Background(), u)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if applied, err := store.Migrate(context.Background(), u); err != nil || len(applied) != 0 {
		t.Fatalf("migrate after open applied %v, %v", applied, err)
	}
}

package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// postgresURL returns a URL to a fresh schema, dropped when t ends, so tests
// and CI runs never share tables.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("YAGONA_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("PostgreSQL tests disabled; set YAGONA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "yt_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgres(t *testing.T) {
	if os.Getenv("YAGONA_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL tests disabled; set YAGONA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
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
		return open(t, postgresURL(t))
	}, func(t *testing.T, s store.Store) store.Store {
		return open(t, urls[s])
	})
}

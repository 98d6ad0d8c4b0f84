package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "yagona.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, nil)
}

func TestOpenErrors(t *testing.T) {
	for _, url := range []string{"", "mysql://x", "sqlite:", "sqlite:/tmp/x.db?mode=ro"} {
		if _, err := store.Open(context.Background(), url); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	first, err := store.Migrate(context.Background(), url)
	if err != nil || len(first) == 0 {
		t.Fatalf("first migrate: %v %v", first, err)
	}
	again, err := store.Migrate(context.Background(), url)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, %v", again, err)
	}
}

func TestSQLitePathNeedsNoEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "100% data dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "y%41.db")
	s, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
}

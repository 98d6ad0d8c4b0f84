package server

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/store"
)

// The tasks below run on the server's host, against its store, without a
// running server: the commands migrate, operator add and operator grant.

// Migrate applies the embedded database migrations and returns the files
// it applied.
func Migrate(ctx context.Context, cfg *config.Config) ([]string, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx, cfg.StoreURL())
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// AddOperator creates the credential of an operator (a registration
// officer) and returns its token.
func AddOperator(ctx context.Context, cfg *config.Config, id string, now time.Time) (string, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer st.Close()
	return operator.Create(ctx, st, id, "officer", now)
}

// GrantRole records that a person holds role ("officer" or "admin"), so
// that they receive its scopes when they log in with their certificate.
func GrantRole(ctx context.Context, cfg *config.Config, pinfl, role string, now time.Time) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return operator.Grant(ctx, st, pinfl, role, now)
}

func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.StoreURL())
}

package store

import (
	"context"
	"time"
)

// Leases elect one holder per name among replicas.
type Leases interface {
	// AcquireLease takes the lease name for holder until now+ttl, or renews
	// it if holder has it; it reports whether holder holds it now. Of
	// replicas racing for a free or expired lease, one wins.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

func (s *sqlStore) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`, name, holder, micros(now.Add(ttl)), micros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

func (s *sqlStore) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	return mapErr(err)
}

// Package leader elects, among replicas sharing a database, the one that
// runs each periodic job (CRL issuance, the log sequencer, decision
// expiry, token-key rotation), through leases in the store: a holder
// renews its lease every third of its time to live; when it dies, another
// replica takes the lease once it has run out.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store holds the leases; pkg/store satisfies it.
type Store interface {
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Elector keeps trying to hold one lease.
type Elector struct {
	st      Store
	name    string
	holder  string
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger
	leading atomic.Bool
	lastOK  atomic.Int64 // unix nanoseconds of the last successful Try
	gauge   prometheus.Gauge
}

// NewHolder is a random identity for this process.
func NewHolder() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// New returns an elector for the lease name; gauge (may be nil) is set to
// 1 while this process leads.
func New(st Store, name, holder string, ttl time.Duration, log *slog.Logger, gauge prometheus.Gauge) *Elector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{st: st, name: name, holder: holder, ttl: ttl, now: time.Now, log: log, gauge: gauge}
}

// Leading reports whether this process held the lease at the last try.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Try takes or renews the lease once.
func (e *Elector) Try(ctx context.Context) bool {
	ok, err := e.st.AcquireLease(ctx, e.name, e.holder, e.now(), e.ttl)
	if err != nil {
		e.log.WarnContext(ctx, "lease attempt failed", "lease", e.name, "err", err)
		ok = false // a store we cannot reach: stop leading, another may take over
	}
	if ok {
		e.lastOK.Store(e.now().UnixNano())
	}
	if was := e.leading.Swap(ok); was != ok {
		e.log.InfoContext(ctx, "job leadership changed", "lease", e.name, "leading", ok)
	}
	if e.gauge != nil {
		if ok {
			e.gauge.Set(1)
		} else {
			e.gauge.Set(0)
		}
	}
	return ok
}

// Run keeps the lease (renewing every third of its time to live) until
// ctx ends, then releases it.
func (e *Elector) Run(ctx context.Context) {
	e.Try(ctx)
	e.renew(ctx)
}

// renew renews the lease every third of its time to live until ctx ends,
// then releases it.
func (e *Elector) renew(ctx context.Context) {
	t := time.NewTicker(e.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if e.leading.Load() {
				_ = e.st.ReleaseLease(context.WithoutCancel(ctx), e.name, e.holder)
			}
			return
		case <-t.C:
			e.Try(ctx)
		}
	}
}

// Held reports whether this process holds the lease now: it took or
// renewed it within two thirds of its time to live, so no other replica
// can have taken it since.
func (e *Elector) Held() bool {
	return e.leading.Load() && e.now().Sub(time.Unix(0, e.lastOK.Load())) < e.ttl*2/3
}

// Every keeps the lease as Run does (renewing every third of its time to
// live, on its own goroutine, so a long job does not let it lapse) and
// runs job at once and then every interval while the lease is Held.
func (e *Elector) Every(ctx context.Context, interval time.Duration, job func(context.Context)) {
	e.Try(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.renew(ctx)
	}()
	defer func() { <-done }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if e.Held() {
			job(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/internal/leader"
)

// sweepStatus is the status-sweep job: it catches up on status changes
// whose OCSP invalidation or CRL reissue a replica could not finish (see
// ca.Authority.SweepStatusChanges). A new leader looks two minutes back.
func (a *Server) sweepStatus(ctx context.Context) {
	if a.sweepSince.IsZero() || time.Since(a.sweepSince) > 10*time.Minute {
		a.sweepSince = time.Now().Add(-2 * time.Minute)
	}
	// Ten seconds of overlap: a transaction stamped before the last sweep
	// may commit after it.
	seen, next, err := a.auth.SweepStatusChanges(ctx, a.sweepSince.Add(-10*time.Second), a.sweepSeen)
	if err != nil {
		a.log.ErrorContext(ctx, "status sweep failed", "err", err)
		return
	}
	a.sweepSeen = seen
	if next.After(a.sweepSince) {
		a.sweepSince = next
	}
}

// presignOCSP is the OCSP refresh job: it signs the answers of every
// live certificate ahead of demand, renewing those past half their
// validity, so clients are served from the cache.
func (a *Server) presignOCSP(ctx context.Context) {
	start := time.Now()
	n, err := a.auth.PresignOCSP(ctx, a.ocsp)
	if err != nil {
		a.log.WarnContext(ctx, "ocsp presign stopped", "signed", n, "err", err)
		return
	}
	a.log.InfoContext(ctx, "ocsp presign done", "signed", n, "took", time.Since(start).Round(time.Millisecond))
}

// runJobs starts the periodic jobs that must run on one replica at a time,
// each behind its own lease: CRL refresh, the log sequencer, decision
// expiry and webhooks, token-key rotation. yagona_job_leader{lease} is 1 on
// the replica running a job.
func (a *Server) runJobs(ctx context.Context) {
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yagona_job_leader",
		Help: "1 while this replica holds the job's lease and runs it."}, []string{"lease"})
	_ = a.registry.Register(gauge)
	holder := leader.NewHolder()
	jobs := []struct {
		name     string
		interval time.Duration
		run      func(context.Context)
	}{
		{"crl", time.Minute, a.auth.RefreshCRL},
		{"log", orDefault(a.cfg.CA.LogInterval, 10*time.Second), a.tlog.Step},
		{"decisions", 5 * time.Second, a.decide.Sweep},
		{"token-keys", time.Hour, a.idp.RotateKeys},
		{"status-sweep", 5 * time.Second, a.sweepStatus},
		{"ocsp-presign", orDefault(a.cfg.CA.OCSPValidity, time.Hour) / 8, a.presignOCSP},
	}
	ttl := orDefault(a.cfg.Jobs.Lease, 15*time.Second)
	for _, j := range jobs {
		// The lease is renewed every third of its life on its own
		// goroutine, whatever the job's interval; a dead leader is
		// replaced within ttl.
		el := leader.New(a.store, j.name, holder, ttl, a.log, gauge.WithLabelValues(j.name))
		go el.Every(ctx, j.interval, j.run)
	}
}

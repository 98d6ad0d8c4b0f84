package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/internal/access"
	"github.com/yagona/yagona/internal/reqid"
)

// observer holds the process-wide request recorder and the readiness
// metrics. One per Server; its metrics are registered once.
type observer struct {
	access   *access.Recorder
	ready    *prometheus.GaugeVec
	failures *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func (a *Server) newObserver() (*observer, error) {
	rec, err := access.New(access.Config{Logger: a.log, Registerer: a.registry, Route: outsideMuxRoute})
	if err != nil {
		return nil, err
	}
	o := &observer{access: rec,
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yagona_ready",
			Help: "1 when the component passed this replica's last readiness check (store, cache, issuing key), else 0."},
			[]string{"component"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_ready_check_failures_total",
			Help: "Failed readiness checks, by component: the store or cache did not answer, or the issuing key did not sign."},
			[]string{"component"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_ready_check_seconds",
			Help:    "Time a readiness check of a component took (a store or cache round trip, an issuing-key signature).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"component"}),
	}
	for _, c := range readyComponents {
		o.failures.WithLabelValues(c) // export zeros: alerts see the series before the first failure
	}
	for _, c := range []prometheus.Collector{o.ready, o.failures, o.latency} {
		if err := a.registry.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// edge wraps a listener's handler: each request gets an id (X-Request-ID,
// in the logs as request_id), an access-log line at debug level and the
// yagona_http_* metrics.
func (a *Server) edge(listener string, h http.Handler) http.Handler {
	return reqid.Middleware(a.obs.access.Wrap(listener, h))
}

// outsideMuxRoute names the routes served before the ServeMux: only the
// OCSP responder (api.Server.Handler).
func outsideMuxRoute(r *http.Request) string {
	if p := r.URL.Path; p == "/ocsp" || strings.HasPrefix(p, "/ocsp/") {
		return "/ocsp"
	}
	return ""
}

// readyComponents are what readiness checks, the values of
// yagona_ready{component}.
var readyComponents = []string{"store", "cache", "issuing_key"}

// checkReady runs the readiness checks and records them in the metrics;
// it returns the names of the components that failed.
func (a *Server) checkReady(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var problems []string
	check := func(name string, f func() error) {
		start := time.Now()
		err := f()
		a.obs.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err != nil {
			problems = append(problems, name)
			a.obs.ready.WithLabelValues(name).Set(0)
			a.obs.failures.WithLabelValues(name).Inc()
			a.log.WarnContext(ctx, "not ready", "component", name, "err", err)
			return
		}
		a.obs.ready.WithLabelValues(name).Set(1)
	}
	check("store", func() error { return a.store.Ping(ctx) })
	check("cache", func() error { return a.cache.Ping(ctx) })
	check("issuing_key", func() error { return probeKey(a.hier.IssuingKey) })
	return problems
}

// runReadiness checks readiness every interval, so yagona_ready is
// current whether or not anything probes /readyz.
func (a *Server) runReadiness(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.checkReady(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

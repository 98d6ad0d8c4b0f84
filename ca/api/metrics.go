package api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/ca"
)

type metrics struct {
	issuedTotal   *prometheus.CounterVec
	issueFailures *prometheus.CounterVec
	issueSeconds  prometheus.Histogram
	statusTotal   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		issuedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yagona_certificates_issued_total", Help: "Certificates issued, by profile."}, []string{"profile"}),
		issueFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yagona_certificate_requests_failed_total", Help: "Refused or failed certificate requests, by error code."}, []string{"code"}),
		issueSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "yagona_issuance_duration_seconds", Help: "Time to handle a successful certificate request.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		statusTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yagona_certificate_status_changes_total", Help: "Revocations, suspensions and resumptions."}, []string{"action"}),
	}
	if reg != nil {
		reg.MustRegister(m.issuedTotal, m.issueFailures, m.issueSeconds, m.statusTotal)
	}
	return m
}

func (m *metrics) issued(profile string, d time.Duration) {
	m.issuedTotal.WithLabelValues(profile).Inc()
	m.issueSeconds.Observe(d.Seconds())
}

func (m *metrics) issueFailed(err error) { m.issueFailures.WithLabelValues(ca.AsError(err).Code).Inc() }

func (m *metrics) statusChanged(action string) { m.statusTotal.WithLabelValues(action).Inc() }

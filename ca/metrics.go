package ca

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/pkg/store"
)

// Issuance stages, the values of yagona_issuance_stage_seconds{stage}.
const (
	StageCSRCheck = "csr_check" // parse the CSR, check its key and its self-signature
	StageLint     = "lint"      // sign with the throwaway key and run zlint
	StageSign     = "sign"      // sign with the CA key and check the signature
	StageStore    = "store"     // record certificate, enrollment claim and audit event
)

// metrics are the CA's own: time per issuance stage and the state of the
// latest CRL. The HTTP edge (ca/api) counts requests and outcomes.
type metrics struct {
	stage      *prometheus.HistogramVec
	nextUpdate *prometheus.GaugeVec
	thisUpdate *prometheus.GaugeVec
	number     *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_issuance_stage_seconds",
			Help:    "Time per certificate issuance stage: csr_check, lint, sign, store.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18)}, // 50 µs to 6.5 s
			[]string{"stage"}),
		nextUpdate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yagona_crl_next_update_timestamp_seconds",
			Help: "nextUpdate of the live CRL shard closest to its nextUpdate, as the CRL job leader last saw it (Unix time); take the max over replicas."}, []string{"issuer"}),
		thisUpdate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yagona_crl_this_update_timestamp_seconds",
			Help: "thisUpdate of that shard's CRL (Unix time); take the max over replicas."}, []string{"issuer"}),
		number: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yagona_crl_number",
			Help: "CRL number of that shard's CRL."}, []string{"issuer"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.stage, m.nextUpdate, m.thisUpdate, m.number} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

// since records the time a stage took since start (a monotonic reading:
// stage latency is measured on the process clock, not Config.Now).
func (m *metrics) since(stage string, start time.Time) {
	m.stage.WithLabelValues(stage).Observe(time.Since(start).Seconds())
}

// crl records the live CRL shard closest to its nextUpdate.
func (m *metrics) crl(c store.CRL) {
	m.nextUpdate.WithLabelValues(c.Issuer).Set(float64(c.NextUpdate.Unix()))
	m.thisUpdate.WithLabelValues(c.Issuer).Set(float64(c.ThisUpdate.Unix()))
	m.number.WithLabelValues(c.Issuer).Set(float64(c.Number))
}

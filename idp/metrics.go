package idp

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	authorize   *prometheus.CounterVec
	login       *prometheus.CounterVec
	token       *prometheus.CounterVec
	backchannel *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	step        *prometheus.HistogramVec
}

// Login steps of the provider, values of yagona_login_step_seconds{step};
// the login methods add their own (the CMS challenge: challenge,
// cms_verify).
const (
	stepChainStatus  = "chain_status"  // build the chain, check status (OCSP/store), key usage, policy
	stepSession      = "session"       // open the session
	stepCodeIssue    = "code_issue"    // consent check and authorization code
	stepCodeExchange = "code_exchange" // the token endpoint redeeming a code: PKCE, tokens signed
)

func (m *metrics) register(reg prometheus.Registerer) error {
	m.authorize = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_idp_authorize_total",
		Help: "Authorization requests by outcome: login (sent to the login page), code, or the OAuth error sent to the client."}, []string{"outcome"})
	m.login = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_idp_login_total",
		Help: "Login steps: challenge issued, ok, failed."}, []string{"step"})
	m.token = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_idp_token_total",
		Help: "Token endpoint answers by grant type or error code."}, []string{"outcome"})
	m.backchannel = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_idp_backchannel_logout_total",
		Help: "Back-channel logout deliveries by result."}, []string{"result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_idp_request_duration_seconds",
		Help: "Time to answer provider API requests, by route.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"route"})
	m.step = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_login_step_seconds",
		Help:    "Time per login step: challenge, cms_verify, chain_status, session, code_issue, code_exchange.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18)}, []string{"step"})
	if reg == nil {
		return nil
	}
	return errors.Join(reg.Register(m.authorize), reg.Register(m.login), reg.Register(m.token), reg.Register(m.backchannel), reg.Register(m.duration),
		reg.Register(m.step))
}

// wrap times an API handler by its route pattern.
func (m *metrics) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h(w, r)
		m.duration.WithLabelValues(r.Pattern).Observe(time.Since(start).Seconds())
	})
}

// since records the time a login step took since start (on the process's
// monotonic clock, not Config.Now).
func (m *metrics) since(step string, start time.Time) {
	m.step.WithLabelValues(step).Observe(time.Since(start).Seconds())
}

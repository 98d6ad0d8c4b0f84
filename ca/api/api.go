// Package api is the HTTP edge of the certificate authority: the JSON API
// under /api/v1 (documented in docs/openapi.yaml) and the public PKI
// endpoints relying parties fetch without TLS (trust anchors, issuing chain,
// CRL, OCSP). Domain errors are mapped to HTTP status codes here and only
// here, and answered as RFC 9457 problem documents through pkg/httpjson,
// which also reads every request body.
package api

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

// Operators authenticates operator bearer tokens.
type Operators interface {
	Authenticate(ctx context.Context, token string) (id string, err error)
}

// Tokens verifies the identity provider's OAuth access tokens (officers
// who logged in with their own certificates, services with client
// credentials): who acts and with which scopes, or an error for a token
// that is not valid (wrong, expired, revoked, bound to another
// certificate). The API decides which scopes its officer routes need.
type Tokens interface {
	VerifyAccessToken(r *http.Request, token string) (AccessToken, error)
}

// AccessToken is a verified access token as the officer API reads it.
type AccessToken struct {
	Actor  string // who acts, as the audit trail names them
	Scopes []string
}

// Limiter is the ephemeral state the API needs for rate limits; pkg/cache
// satisfies it.
type Limiter interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Config configures the HTTP edge.
type Config struct {
	Authority *ca.Authority
	Operators Operators
	Tokens    Tokens // nil: only operator tokens
	Limiter   Limiter
	Roots     []*x509.Certificate // trust anchors served at /pki/roots.pem
	OCSP      http.Handler        // the responder, mounted at /ocsp
	// RootCRL is the root's CRL of the CAs it certified, served at
	// /crl/root.crl (DER); nil: 404. The root certificate, Roots[0], is
	// served at /pki/root.cer.
	RootCRL []byte
	// FailuresPerMinute is how many failed enrollment or renewal attempts one
	// client address may make in a minute before it is refused for a minute.
	// Zero means 20.
	FailuresPerMinute int
	MaxBody           int64 // request body cap; zero means 64 KiB
	Logger            *slog.Logger
	Registerer        prometheus.Registerer // nil: no metrics
}

// Server serves the CA over HTTP.
type Server struct {
	cfg     Config
	a       *ca.Authority
	log     *slog.Logger
	rootPEM []byte
	chain   []byte // issuing CA PEM
	metrics *metrics
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.FailuresPerMinute == 0 {
		cfg.FailuresPerMinute = 20
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, a: cfg.Authority, log: cfg.Logger, metrics: newMetrics(cfg.Registerer)}
	for _, r := range cfg.Roots {
		s.rootPEM = append(s.rootPEM, pemCert(r)...)
	}
	s.chain = pemCert(cfg.Authority.Issuer().Cert)
	return s
}

// RegisterAPI adds the JSON API (served on the HTTPS listener only).
func (s *Server) RegisterAPI(mux *http.ServeMux) {
	route(mux, "/api/v1/persons", map[string]http.HandlerFunc{"POST": s.admin(s.createPerson)})
	route(mux, "/api/v1/persons/{pinfl}", map[string]http.HandlerFunc{"GET": s.admin(s.getPerson)})
	route(mux, "/api/v1/organizations", map[string]http.HandlerFunc{"POST": s.admin(s.putOrganization)})
	route(mux, "/api/v1/enrollments", map[string]http.HandlerFunc{"POST": s.admin(s.createEnrollment)})
	route(mux, "/api/v1/certificates", map[string]http.HandlerFunc{"POST": s.enroll, "GET": s.anyActor(s.listCertificates)})
	route(mux, "/api/v1/certificates/renew", map[string]http.HandlerFunc{"POST": s.renew})
	route(mux, "/api/v1/certificates/{serial}", map[string]http.HandlerFunc{"GET": s.anyActor(s.getCertificate)})
	route(mux, "/api/v1/certificates/{serial}/revoke", map[string]http.HandlerFunc{"POST": s.anyActor(s.revoke)})
	route(mux, "/api/v1/certificates/{serial}/suspend", map[string]http.HandlerFunc{"POST": s.anyActor(s.statusChange("suspend", s.a.Suspend))})
	route(mux, "/api/v1/certificates/{serial}/resume", map[string]http.HandlerFunc{"POST": s.anyActor(s.statusChange("resume", s.a.Resume))})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusNotFound, "not_found", "no such endpoint"))
	})
}

// RegisterPKI adds what relying parties fetch (served on both listeners).
func (s *Server) RegisterPKI(mux *http.ServeMux) {
	route(mux, "/pki/roots.pem", map[string]http.HandlerFunc{"GET": s.blob("application/x-pem-file", func() []byte { return s.rootPEM })})
	route(mux, "/pki/ca.pem", map[string]http.HandlerFunc{"GET": s.blob("application/x-pem-file", func() []byte { return s.chain })})
	route(mux, "/pki/issuing.cer", map[string]http.HandlerFunc{"GET": s.blob("application/pkix-cert", func() []byte { return s.a.Issuer().Cert.Raw })})
	route(mux, "/crl/{file}", map[string]http.HandlerFunc{"GET": s.crl})
	if len(s.cfg.Roots) > 0 {
		route(mux, "/pki/root.cer", map[string]http.HandlerFunc{"GET": s.blob("application/pkix-cert", func() []byte { return s.cfg.Roots[0].Raw })})
	}
}

// Handler puts the OCSP responder in front of mux. OCSP GET requests carry
// base64 in the path, which may contain "//"; ServeMux would clean that
// path and answer with a redirect page, so /ocsp never reaches it.
func (s *Server) Handler(mux *http.ServeMux) http.Handler {
	if s.cfg.OCSP == nil {
		return mux
	}
	ocsp := http.StripPrefix("/ocsp", s.cfg.OCSP)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/ocsp" || strings.HasPrefix(p, "/ocsp/") {
			ocsp.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// route registers a path whose handler is chosen by method; other methods
// get a JSON 405.
func route(mux *http.ServeMux, path string, byMethod map[string]http.HandlerFunc) {
	allow := make([]string, 0, len(byMethod))
	for m := range byMethod {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		if h, ok := byMethod[m]; ok {
			h(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusMethodNotAllowed, "method_not_allowed", "use "+strings.Join(allow, " or ")))
	})
}

func (s *Server) blob(contentType string, body func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body())
	}
}

// crl serves /crl/<issuer>.crl (shard 0), /crl/<issuer>-<n>.crl and the
// root's /crl/root.crl.
func (s *Server) crl(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("file") == "root.crl" && s.cfg.RootCRL != nil {
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(s.cfg.RootCRL)
		return
	}
	shard, ok := crlShard(r.PathValue("file"), s.a.Issuer().Name)
	if !ok {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusNotFound, "not_found", "no such CRL"))
		return
	}
	c, err := s.a.CRL(r.Context(), shard)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	maxAge := int(time.Until(c.NextUpdate).Seconds())
	maxAge = max(0, min(maxAge, 300)) // reissued on every change: keep caches short
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "public, max-age="+itoa(maxAge))
	w.Header().Set("Last-Modified", c.ThisUpdate.UTC().Format(http.TimeFormat))
	_, _ = w.Write(c.DER)
}

// crlShard reads a CRL file name: "<issuer>.crl" is shard 0,
// "<issuer>-<n>.crl" shard n, n a positive decimal without a sign or
// leading zeros that fits in an int64.
func crlShard(file, issuer string) (int64, bool) {
	name, ok := strings.CutSuffix(file, ".crl")
	if !ok {
		return 0, false
	}
	rest, ok := strings.CutPrefix(name, issuer)
	if !ok {
		return 0, false
	}
	if rest == "" {
		return 0, true
	}
	digits, ok := strings.CutPrefix(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != digits {
		return 0, false
	}
	return n, true
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// certJSON is a certificate record as the API shows it.
type certJSON struct {
	Serial       string     `json:"serial"`
	Issuer       string     `json:"issuer"`
	PINFL        string     `json:"pinfl,omitempty"`
	Profile      string     `json:"profile"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	NotBefore    time.Time  `json:"not_before"`
	NotAfter     time.Time  `json:"not_after"`
	RenewedFrom  string     `json:"renewed_from,omitempty"`
	EnrollmentID string     `json:"enrollment_id,omitempty"`
	Certificate  string     `json:"certificate"`
}

func toCertJSON(c store.Certificate) certJSON {
	out := certJSON{Serial: c.Serial, Issuer: c.Issuer, PINFL: c.PINFL, Profile: c.Profile, Status: string(c.Status),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, RenewedFrom: c.RenewedFrom, EnrollmentID: c.EnrollmentID,
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER}))}
	if c.Status != store.StatusGood {
		out.Reason = ca.ReasonNames[c.Reason]
		t := c.RevokedAt
		out.RevokedAt = &t
	}
	return out
}

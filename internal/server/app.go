package server

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/ca/api"
	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/ca/tsa"
	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/idp/decision"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/kms"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/translog"
	"github.com/yagona/yagona/pkg/trust"
	"github.com/yagona/yagona/pkg/validation"
)

// Server is the wired server: what `serve` runs and `init` creates.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	store    store.Store
	cache    cache.Cache
	auth     *ca.Authority
	ocsp     *responder.Responder
	api      *api.Server
	tlsCert  atomic.Pointer[tls.Certificate] // the HTTPS listener's, swapped on renewal
	ocspCert atomic.Pointer[x509.Certificate]
	ks       kms.KeyStore
	ocspSC   ca.SystemCert
	tlsSC    ca.SystemCert
	tsaSC    ca.SystemCert
	tsa      *tsa.TSA
	tlog     *translog.Log
	trust    *trust.Verifier // the anchors login and validation trust, built once
	valid    *validation.Validator
	decide   *decision.Service
	tsaCert  atomic.Pointer[x509.Certificate]
	hier     *ca.Hierarchy
	registry *prometheus.Registry
	idp      *idp.Provider
	local    *cache.Memory // the OCSP responder's in-process cache in front of Redis; nil on the memory cache

	// The status sweep's progress, touched only by the job leader's
	// goroutine (runJobs).
	sweepSince time.Time
	sweepSeen  map[string]time.Time
	obs        *observer
}

// passphrase finds the key passphrase: the environment variable, else the
// file; in development (generate_passphrase) a missing file is created
// with a random passphrase, and the log says so.
func passphrase(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	return loadSecret(cfg, log, "keys: passphrase", cfg.Keys.PassphraseEnv, cfg.Keys.PassphraseFile, cfg.Keys.GeneratePassphrase)
}

// loadSecret reads a secret from the environment variable env, else from
// file (relative to the data directory); with generate, a missing file is
// created with 256 random bits and the log says so.
func loadSecret(cfg *config.Config, log *slog.Logger, what, env, file string, generate bool) ([]byte, error) {
	if env != "" {
		if v := os.Getenv(env); v != "" {
			return []byte(v), nil
		}
		if file == "" {
			return nil, fmt.Errorf("%s: environment variable %s is empty", what, env)
		}
	}
	path := cfg.DataPath(file)
	b, err := os.ReadFile(path)
	if err == nil {
		if p := strings.TrimSpace(string(b)); p != "" {
			return []byte(p), nil
		}
		return nil, fmt.Errorf("%s: file %s is empty", what, path)
	}
	if !errors.Is(err, os.ErrNotExist) || !generate {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	p := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(p+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("%s: write generated secret: %w", what, err)
	}
	log.Warn("generated a secret for development; production takes it from the environment", "secret", what, "file", path)
	return []byte(p), nil
}

func openCache(ctx context.Context, cfg *config.Config) (cache.Cache, error) {
	switch {
	case cfg.Cache == "memory":
		return cache.NewMemory(time.Now), nil
	case strings.HasPrefix(cfg.Cache, "redis-cluster://"), strings.HasPrefix(cfg.Cache, "rediss-cluster://"):
		return cache.OpenRedisCluster(ctx, cfg.Cache, "yagona:")
	}
	return cache.OpenRedis(ctx, cfg.Cache, "yagona:")
}

// newApp opens storage, loads (or on first start creates) the CA
// hierarchy and wires the CA, the OCSP responder and the HTTP edge.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *Server, err error) {
	a := &Server{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a.obs, err = a.newObserver(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if a.store, err = store.Open(ctx, cfg.StoreURL()); err != nil {
		return nil, err
	}
	if a.cache, err = openCache(ctx, cfg); err != nil {
		return nil, err
	}
	pass, err := passphrase(cfg, log)
	if err != nil {
		return nil, err
	}
	// One Tokens for the process: every key on a PKCS#11 token shares its
	// login and session pool; close() closes them.
	ks := kms.KeyStore{Options: kms.Options{BaseDir: cfg.DataDir, Passphrase: pass, Tokens: &kms.Tokens{}}}
	a.ks = ks
	linter, err := ca.NewLinter(cfg.CA.LintExclude)
	if err != nil {
		return nil, err
	}
	a.hier, err = ca.LoadHierarchy(cfg.Hierarchy(ks, linter, log))
	if err != nil {
		return nil, err
	}
	issuer, err := ca.NewIssuer("issuing", a.hier.Issuing, a.hier.IssuingKey, linter)
	if err != nil {
		return nil, err
	}
	profiles, err := cfg.CAProfiles()
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(cfg.PublicURL.HTTP, "/")
	a.auth, err = ca.New(ca.Config{
		Issuer: issuer, Roots: []*x509.Certificate{a.hier.Root}, Profiles: profiles,
		URLs:          ca.URLs{OCSP: base + "/ocsp", CAIssuers: base + "/pki/issuing.cer", CRL: base + "/crl/issuing.crl"},
		EnrollmentTTL: cfg.CA.EnrollmentTTL, MaxAttempts: cfg.CA.MaxAttempts, CRLValidity: cfg.CA.CRLValidity,
		CRLShardWidth: cfg.CA.CRLShardWidth,
		Logger:        log, Registerer: a.registry,
		OnStatusChange: func(ctx context.Context, serial *big.Int) {
			if err := a.ocsp.Invalidate(ctx, serial); err != nil {
				log.ErrorContext(ctx, "ocsp invalidate failed", "serial", serial.Text(16), "err", err)
			}
		},
	}, a.store, a.cache)
	if err != nil {
		return nil, err
	}
	a.ocspSC = ca.SystemCert{Kind: "ocsp", CertPath: cfg.DataPath("certs/ocsp.pem"), KeyURI: cfg.Keys.OCSP,
		Validity: orDefault(cfg.CA.OCSPCertValidity, 90*24*time.Hour)}
	a.tlsSC = ca.SystemCert{Kind: "tls", CertPath: cfg.DataPath("certs/tls.pem"), KeyURI: cfg.Keys.TLS, Hosts: cfg.TLSHosts,
		Validity: orDefault(cfg.CA.TLSCertValidity, ca.DefaultTLSCertValidity)}
	ocspCert, ocspKey, err := a.auth.SystemCertificate(ctx, ks, a.ocspSC)
	if err != nil {
		return nil, err
	}
	a.ocspCert.Store(ocspCert)
	tlsCert, tlsKey, err := a.auth.SystemCertificate(ctx, ks, a.tlsSC)
	if err != nil {
		return nil, err
	}
	a.setTLS(tlsCert, tlsKey)
	rcfg := responder.Config{Issuer: a.hier.Issuing, ResponderCert: ocspCert, Signer: ocspKey,
		Validity: cfg.CA.OCSPValidity, Logger: log, Registerer: a.registry, Miss: cache.ErrMiss}
	if shared, ok := a.cache.(*cache.Redis); ok {
		// Shared by replicas: a small in-process cache in front of Redis
		// (answers live there at most a second), invalidations broadcast.
		a.local = cache.NewMemory(time.Now, cache.WithMaxEntries(20000), cache.WithMaxBytes(16<<20), cache.WithSweepInterval(10*time.Second))
		rcfg.Local, rcfg.Bus = a.local, shared
	}
	a.ocsp, err = responder.New(rcfg, a.auth, a.cache)
	if err != nil {
		return nil, err
	}
	var rootCRL []byte
	if rs := a.hier.RootStatus; rs != nil {
		if err := a.ocsp.SetPresigned(rs.Answers); err != nil {
			return nil, err
		}
		rootCRL = rs.ARL
		// The root-key step is a calendar item: the alert watches this.
		a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "yagona_root_crl_next_update_timestamp_seconds",
			Help: "nextUpdate of the root's CRL and OCSP answers for the issuing CA that this replica serves (Unix time); renewed only at a root-key step."},
			func() float64 { return float64(rs.NextUpdate.Unix()) }))
	}
	a.tsaSC = ca.SystemCert{Kind: "tsa", CertPath: cfg.DataPath("certs/tsa.pem"), KeyURI: cfg.Keys.TSA,
		Validity: orDefault(cfg.CA.TSACertValidity, 365*24*time.Hour)}
	tsaCert, tsaKey, err := a.auth.SystemCertificate(ctx, ks, a.tsaSC)
	if err != nil {
		return nil, err
	}
	a.tsaCert.Store(tsaCert)
	tsaPolicy, _ := config.ParseOID(cfg.CA.TSAPolicy)
	if a.tsa, err = tsa.New(tsa.Config{Cert: tsaCert, Issuers: []*x509.Certificate{a.hier.Issuing}, Signer: tsaKey, Policy: tsaPolicy, Accuracy: cfg.CA.TSAAccuracy,
		Logger: log, Registerer: a.registry}); err != nil {
		return nil, err
	}
	logKey, err := ca.LoadOrCreateKey(ks, cfg.Keys.Log, string(kms.Ed25519))
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	if a.tlog, err = translog.New(translog.Config{Origin: logOrigin(cfg), Key: logKey, Logger: log}, a.store); err != nil {
		return nil, err
	}
	if a.trust, err = a.newTrust(); err != nil {
		return nil, err
	}
	if a.valid, err = a.newValidator(); err != nil {
		return nil, err
	}
	created, err := operator.Bootstrap(ctx, a.store, cfg.DataPath("secrets/admin-token"), time.Now())
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created the administrator credential; its token is in a file only the owner can read", "file", cfg.DataPath("secrets/admin-token"))
	}
	if err := a.newIDP(ctx); err != nil {
		return nil, err
	}
	a.decide = decision.New(decision.Config{Store: a.store, Validator: a.valid, Tokens: a.idp,
		PublicURL: strings.TrimSuffix(cfg.PublicURL.HTTPS, "/"), Logger: log})
	a.api = api.New(api.Config{Authority: a.auth, Operators: operator.NewAuthenticator(a.store), Tokens: caTokens{a.idp}, Limiter: a.cache,
		Roots: []*x509.Certificate{a.hier.Root}, OCSP: a.ocsp, RootCRL: rootCRL, FailuresPerMinute: cfg.CA.FailuresPerMinute,
		Logger: log, Registerer: a.registry})
	return a, nil
}

func (a *Server) setTLS(cert *x509.Certificate, key crypto.Signer) {
	a.tlsCert.Store(&tls.Certificate{Certificate: [][]byte{cert.Raw, a.hier.Issuing.Raw}, PrivateKey: key, Leaf: cert})
}

// refreshSystemCerts renews the OCSP signer, the TSA's and the TLS
// certificate when a third of their life is left (or they were revoked)
// and puts the new ones into service without a restart.
func (a *Server) refreshSystemCerts(ctx context.Context) {
	for _, sc := range []struct {
		sc      ca.SystemCert
		current func() *x509.Certificate
		swap    func(*x509.Certificate, crypto.Signer) error
	}{
		{a.ocspSC, a.ocspCert.Load, func(c *x509.Certificate, k crypto.Signer) error {
			if err := a.ocsp.SetSigner(c, k); err != nil {
				return err
			}
			a.ocspCert.Store(c)
			return nil
		}},
		{a.tsaSC, a.tsaCert.Load, func(c *x509.Certificate, k crypto.Signer) error {
			if err := a.tsa.SetSigner(c, k); err != nil {
				return err
			}
			a.tsaCert.Store(c)
			return nil
		}},
		{a.tlsSC, func() *x509.Certificate { return a.tlsCert.Load().Leaf }, func(c *x509.Certificate, k crypto.Signer) error {
			a.setTLS(c, k)
			return nil
		}},
	} {
		cert, key, err := a.auth.SystemCertificate(ctx, a.ks, sc.sc)
		if err != nil {
			a.log.ErrorContext(ctx, "system certificate renewal failed", "kind", sc.sc.Kind, "err", err)
			continue
		}
		if cert.Equal(sc.current()) {
			continue
		}
		if err := sc.swap(cert, key); err != nil {
			a.log.ErrorContext(ctx, "system certificate swap failed", "kind", sc.sc.Kind, "err", err)
			continue
		}
		a.log.InfoContext(ctx, "system certificate renewed", "kind", sc.sc.Kind, "serial", cert.SerialNumber.Text(16), "not_after", cert.NotAfter)
	}
}

// runSystemCertRenewal checks the system certificates every interval.
func (a *Server) runSystemCertRenewal(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.refreshSystemCerts(ctx)
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (a *Server) Close() {
	if a.decide != nil {
		a.decide.Wait() // webhook deliveries in flight end before the store closes
	}
	if a.local != nil {
		_ = a.local.Close()
	}
	if a.cache != nil {
		_ = a.cache.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
	if err := a.ks.Options.Tokens.Close(); err != nil {
		a.log.Warn("closing PKCS#11 tokens failed", "err", err)
	}
}

// handlers builds the HTTPS mux (API, PKI, operations) and the plain HTTP
// mux (PKI and operations only).
func (a *Server) Handlers() (https, plain http.Handler) {
	ops := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		mux.HandleFunc("GET /readyz", a.ready)
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	}
	secure := http.NewServeMux()
	secure.Handle("/pki/tsa", a.tsa)
	secure.Handle("/log/", a.tlog.Handler())
	secure.Handle("GET /api/v1/log/mine", personLog{tokens: a.idp, entries: a.store})
	secure.Handle("POST /api/v1/signatures/verify", validation.Handler(a.valid))
	a.decide.Register(secure)
	secure.Handle("/verify", a.idp.VerifyPage(a.valid))
	a.api.RegisterAPI(secure)
	a.idp.Register(secure)
	a.api.RegisterPKI(secure)
	ops(secure)
	open := http.NewServeMux()
	open.Handle("/pki/tsa", a.tsa)
	open.Handle("/log/", a.tlog.Handler())
	a.api.RegisterPKI(open)
	ops(open)
	return a.edge("https", a.api.Handler(secure)), a.edge("http", a.api.Handler(open))
}

// ready answers 200 only when the store and cache answer and the CA keys
// sign (checkReady, which also records yagona_ready).
func (a *Server) ready(w http.ResponseWriter, r *http.Request) {
	if problems := a.checkReady(r.Context()); len(problems) > 0 {
		http.Error(w, "not ready\n"+strings.Join(problems, "\n")+"\n", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// probeKey signs a throwaway digest to show the key is usable.
func probeKey(k crypto.Signer) error {
	d := sha256.Sum256([]byte("yagona readiness probe"))
	_, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	return err
}

// Hierarchy is the CA hierarchy the server loaded or, on its first start,
// created.
func (a *Server) Hierarchy() *ca.Hierarchy { return a.hier }

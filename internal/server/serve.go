package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/yagona/yagona/pkg/trust"
)

// Run serves on the given listeners (HTTPS and plain HTTP) until ctx
// ends, with the background work of a replica: system-certificate
// renewal, readiness checks, the shared jobs and OCSP invalidations.
func (a *Server) Run(ctx context.Context, lnS, lnP net.Listener) error {
	cfg, log := a.cfg, a.log
	secure, open := a.Handlers()
	tlsCfg := a.tlsConfig()
	srvS := newHTTPServer(secure, log)
	srvS.TLSConfig = tlsCfg
	srvP := newHTTPServer(open, log)
	// Each replica renews its own system certificates; the shared jobs run
	// on whichever replica holds their lease (internal/leader).
	go a.runSystemCertRenewal(ctx, time.Hour)
	go a.runReadiness(ctx, 15*time.Second)
	a.runJobs(ctx)
	// Status changes made by other replicas reach this one's OCSP cache.
	if err := a.ocsp.Listen(ctx); err != nil {
		return fmt.Errorf("ocsp invalidations: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- srvS.Serve(tls.NewListener(lnS, tlsCfg)) }()
	go func() { errc <- srvP.Serve(lnP) }()
	log.Info("yagona serving", "https", lnS.Addr().String(), "http", lnP.Addr().String(),
		"data", cfg.DataDir, "store", storeKind(cfg.Store), "cache", cacheKind(cfg.Cache))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("listener failed", "err", err)
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srvS.Shutdown(shut)
	_ = srvP.Shutdown(shut)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func cacheKind(url string) string {
	if url == "memory" {
		return url
	}
	return "redis"
}

func storeKind(url string) string {
	if len(url) >= 7 && url[:7] == "sqlite:" {
		return "sqlite"
	}
	return "postgres"
}

// tlsConfig is the HTTPS listener's configuration. Holders prove their
// certificate for login, renewal and self-service revocation: the
// listener asks for a client certificate but does not verify it (the CA
// and the IdP verify the chain and status themselves), and names the
// acceptable client CAs so that a browser offers only certificates that
// can succeed.
func (a *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return a.tlsCert.Load(), nil
		},
		ClientAuth: tls.RequestClientCert,
		ClientCAs:  clientCAs(a.trust.Anchors()),
	}
}

// clientCAs names the authorities whose certificates a holder may
// present: the first anchor is our own, named by its issuing CA(s), which
// issue the citizens' certificates; an external anchor is named by its
// root and intermediates, since a browser matches any CA on the path.
func clientCAs(anchors []trust.Anchor) *x509.CertPool {
	pool := x509.NewCertPool()
	for i, an := range anchors {
		if i > 0 || len(an.Intermediates) == 0 {
			pool.AddCert(an.Root)
		}
		for _, c := range an.Intermediates {
			pool.AddCert(c)
		}
	}
	return pool
}

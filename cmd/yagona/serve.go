package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/pkg/store"
)

func newServeCmd(g *globals) *cobra.Command {
	var httpsAddr, httpAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (creates the CA hierarchy on the first start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			if httpsAddr != "" {
				cfg.Listen.HTTPS = httpsAddr
			}
			if httpAddr != "" {
				cfg.Listen.HTTP = httpAddr
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			lnS, err := net.Listen("tcp", cfg.Listen.HTTPS)
			if err != nil {
				return err
			}
			lnP, err := net.Listen("tcp", cfg.Listen.HTTP)
			if err != nil {
				lnS.Close()
				return err
			}
			return serve(ctx, cfg, g, lnS, lnP)
		},
	}
	cmd.Flags().StringVar(&httpsAddr, "https", "", "HTTPS listen address (overrides listen.https)")
	cmd.Flags().StringVar(&httpAddr, "http", "", "plain HTTP listen address (overrides listen.http)")
	return cmd
}

// serve runs the server on the given listeners until ctx ends.
func serve(ctx context.Context, cfg *Config, g *globals, lnS, lnP net.Listener) error {
	log := g.logger(cfg)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		lnS.Close()
		lnP.Close()
		return err
	}
	defer a.close()
	secure, open := a.handlers()
	tlsCfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return a.tlsCert.Load(), nil
		},
		// Holders prove their certificate for renewal and self-service
		// revocation; the CA verifies the chain and status itself.
		ClientAuth: tls.RequestClientCert,
	}
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

func newInitCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the data directory, keys, CA hierarchy and administrator credential, then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			a, err := newApp(cmd.Context(), cfg, g.logger(cfg))
			if err != nil {
				return err
			}
			defer a.close()
			res := map[string]any{"data_dir": cfg.DataDir, "root": a.hier.Root.Subject.String(),
				"issuing": a.hier.Issuing.Subject.String(), "created": a.hier.Created,
				"admin_token_file": cfg.dataPath("secrets/admin-token")}
			return g.print(res, func(w io.Writer) {
				fprintf(w, "data directory: %s\nroot CA: %s\nissuing CA: %s\nadmin token file: %s\n",
					cfg.DataDir, a.hier.Root.Subject, a.hier.Issuing.Subject, cfg.dataPath("secrets/admin-token"))
			})
		},
	}
}

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, err := g.storeURL()
			if err != nil {
				return err
			}
			applied, err := store.Migrate(cmd.Context(), url)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			return g.print(map[string]any{"applied": applied}, func(w io.Writer) {
				fprintf(w, "applied %d migrations\n", len(applied))
			})
		},
	}
}

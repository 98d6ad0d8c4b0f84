package main

import (
	"context"
	"fmt"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/server"
	"io"
	"net"
	"os/signal"
	"syscall"

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
func serve(ctx context.Context, cfg *config.Config, g *globals, lnS, lnP net.Listener) error {
	srv, err := server.New(ctx, cfg, g.logger(cfg))
	if err != nil {
		lnS.Close()
		lnP.Close()
		return err
	}
	defer srv.Close()
	return srv.Run(ctx, lnS, lnP)
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
			a, err := server.New(cmd.Context(), cfg, g.logger(cfg))
			if err != nil {
				return err
			}
			defer a.Close()
			h := a.Hierarchy()
			res := map[string]any{"data_dir": cfg.DataDir, "root": h.Root.Subject.String(),
				"issuing": h.Issuing.Subject.String(), "created": h.Created,
				"admin_token_file": cfg.DataPath("secrets/admin-token")}
			return g.print(res, func(w io.Writer) {
				fprintf(w, "data directory: %s\nroot CA: %s\nissuing CA: %s\nadmin token file: %s\n",
					cfg.DataDir, h.Root.Subject, h.Issuing.Subject, cfg.DataPath("secrets/admin-token"))
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

package main

import (
	"context"
	"io"
	"net"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/ceremony"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/server"
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
	srv, err := server.New(ctx, cfg, cfg.Logger(g.errw))
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
			a, err := server.New(cmd.Context(), cfg, cfg.Logger(g.errw))
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
			cfg, err := g.config()
			if err != nil {
				return err
			}
			applied, err := server.Migrate(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return g.print(map[string]any{"applied": applied}, func(w io.Writer) {
				fprintf(w, "applied %d migrations\n", len(applied))
			})
		},
	}
}

// newCeremonyCmd is the key ceremony: the root and issuing CA keys are
// made on the PKCS#11 token, in front of witnesses, and certified through
// the same code `serve` uses on a first start (ca.LoadHierarchy).
func newCeremonyCmd(g *globals) *cobra.Command {
	var operatorName string
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Create the root and issuing CA keys on the PKCS#11 token, certify them and print a transcript for witnesses",
		Long: `ceremony creates the root CA key (ECDSA P-384) and the issuing CA key
(ECDSA P-256) on the PKCS#11 token(s) that keys.root and keys.issuing name,
self-signs the root, certifies the issuing CA, and writes certs/root.pem and
certs/issuing.pem in the data directory, where "yagona serve" reads them.
It refuses to run when either key or certificate exists. The transcript goes
to standard output and to ceremony/ in the data directory. See docs/hsm.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			c := ceremony.Ceremony{Config: cfg, Operator: operatorName, ConfigPath: g.configPath}
			path, err := c.Run(g.out)
			if path != "" {
				fprintf(g.errw, "transcript written to %s\n", path)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&operatorName, "operator", "", "full name of the operator running the ceremony (required)")
	_ = cmd.MarkFlagRequired("operator")
	return cmd
}

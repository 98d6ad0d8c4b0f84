package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/agent"
	"github.com/yagona/yagona/pkg/certfile"
)

// newAgentCmd is `yagona agent`: the local signing agent the login page
// talks to (docs/login.md).
func newAgentCmd(g *globals) *cobra.Command {
	var f clientFlags
	var listen string
	var keys, certs, origins []string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the local signing agent for the login page (loopback only)",
		Long: `Run the local signing agent. It unlocks the given keys at start, listens on
a loopback address only, and signs login challenges for the configured page
origins, and only challenges whose origin line is the asking page's origin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ap, err := netip.ParseAddrPort(listen)
			if err != nil || !ap.Addr().IsLoopback() {
				return fmt.Errorf("--listen %q: the agent listens on a loopback address only (127.0.0.1:PORT or [::1]:PORT)", listen)
			}
			if len(keys) == 0 || len(keys) != len(certs) {
				return errors.New("give --key and --cert in pairs, at least one")
			}
			var ids []agent.Identity
			for i := range keys {
				key, err := f.loadKey(keys[i])
				if err != nil {
					return fmt.Errorf("%s: %w", keys[i], err)
				}
				chain, err := certfile.Read(certs[i])
				if err != nil {
					return err
				}
				ids = append(ids, agent.Identity{Certificate: chain[0], Chain: chain[1:], Key: key})
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			a, err := agent.New(agent.Config{Identities: ids, Origins: origins, Logger: cfg.Logger(g.errw)})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			fprintf(cmd.ErrOrStderr(), "yagona agent on http://%s for %v with %d key(s)\n", ln.Addr(), origins, len(ids))
			return a.Serve(ctx, ln)
		},
	}
	f.registerPass(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8765", "loopback address to listen on")
	cmd.Flags().StringArrayVar(&keys, "key", nil, "encrypted key file (repeatable, paired with --cert)")
	cmd.Flags().StringArrayVar(&certs, "cert", nil, "certificate PEM, leaf first then its chain (repeatable)")
	cmd.Flags().StringArrayVar(&origins, "origin", nil, "page origin allowed to ask for signatures, e.g. https://id.example.uz (repeatable, required)")
	return cmd
}

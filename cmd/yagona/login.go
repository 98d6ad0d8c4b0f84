package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/pkg/certfile"
)

// newLoginCmd is `yagona login`: a person (an officer, say) logs in with
// their own certificate through the same challenge the login page uses,
// as the public client yagona-cli, and gets an access token for the API.
func newLoginCmd(g *globals) *cobra.Command {
	var f clientFlags
	var scopes []string
	var out string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with your certificate and key; writes an access token for --token-file / YAGONA_TOKEN",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.needHolder(); err != nil {
				return err
			}
			if out == "" {
				return errors.New("--out is required (the token is a secret: it goes to a file only you can read)")
			}
			chain, err := certfile.Read(f.certFile)
			if err != nil {
				return err
			}
			key, err := f.loadKey(f.keyFile)
			if err != nil {
				return err
			}
			cert := f.certFile
			f.certFile = "" // no TLS client certificate: the login proves the key
			c, err := g.newClient(&f, false)
			f.certFile = cert
			if err != nil {
				return err
			}
			tok, granted, err := c.CertificateLogin(cmd.Context(), chain[0], chain[1:], key, scopes)
			if err != nil {
				return err
			}
			if err := writeSecret(out, false, func() ([]byte, error) { return []byte(tok + "\n"), nil }); err != nil {
				return err
			}
			return g.print(map[string]any{"token_file": out, "scope": granted}, func(w io.Writer) {
				fprintf(w, "logged in; access token in %s (scopes: %s)\n", out, granted)
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringArrayVar(&scopes, "scope", []string{"openid", "pinfl", "ca:officer"}, "scope to ask for (repeatable)")
	cmd.Flags().StringVar(&out, "out", "", "file to write the access token to (mode 0600)")
	return cmd
}

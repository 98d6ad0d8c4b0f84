package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/apiclient"
	"github.com/yagona/yagona/pkg/certfile"
)

// newClientCmd is `yagona client`: an administrator registers the services
// that hand login to Yagona (the admin API /api/v1/clients).
func newClientCmd(g *globals) *cobra.Command {
	cl := &cobra.Command{Use: "client", Short: "Administrator: register and list OpenID Connect clients (relying parties)"}
	cl.AddCommand(newClientAddCmd(g), newClientListCmd(g), newClientDisableCmd(g))
	return cl
}

func newClientAddCmd(g *globals) *cobra.Command {
	var f clientFlags
	var in apiclient.ClientRegistration
	var jwksFile, tlsCertFile string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register a client; prints its secret once (client_secret_basic)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return err
				}
				if !json.Valid(b) {
					return fmt.Errorf("%s: not JSON", jwksFile)
				}
				in.JWKS = b
			}
			if tlsCertFile != "" {
				certs, err := certfile.Read(tlsCertFile)
				if err != nil {
					return err
				}
				if in.TLSSubjectDN != "" {
					return errors.New("give --tls-subject or --tls-cert, not both")
				}
				in.TLSSubjectDN = certs[0].Subject.String()
			}
			var out map[string]any
			if err := g.call(cmd.Context(), &f, true, "POST", "/api/v1/clients", in, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) {
				fprintf(w, "registered client %s\n", in.ID)
				if s, _ := out["client_secret"].(string); s != "" {
					fprintf(w, "client secret (shown once, store it now): %s\n", s)
				}
			})
		},
	}
	f.register(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&in.ID, "id", "", "client_id: 3-64 characters of a-z 0-9 . _ -")
	fl.StringVar(&in.Name, "name", "", "name shown to people on the login and consent pages")
	fl.StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "redirect URI, matched exactly (repeatable)")
	fl.StringArrayVar(&in.PostLogoutRedirectURIs, "post-logout-uri", nil, "post-logout redirect URI (repeatable)")
	fl.StringVar(&in.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel logout URI")
	fl.StringArrayVar(&in.GrantTypes, "grant", nil, "grant type: authorization_code, refresh_token, client_credentials (repeatable; default the first two)")
	fl.StringArrayVar(&in.Scopes, "scope", nil, "allowed scope (repeatable; default openid profile pinfl)")
	fl.StringVar(&in.AuthMethod, "auth-method", "", "client_secret_basic (default), private_key_jwt, tls_client_auth or none")
	fl.StringVar(&jwksFile, "jwks", "", "JWK Set file with the client's public keys (private_key_jwt)")
	fl.StringVar(&in.TLSSubjectDN, "tls-subject", "", "subject DN of the client's certificate (tls_client_auth), as Go prints it")
	fl.StringVar(&tlsCertFile, "tls-cert", "", "the client's certificate (PEM), to take the subject DN from (tls_client_auth)")
	fl.BoolVar(&in.Consent, "consent", false, "ask people to consent before releasing claims")
	fl.StringVar(&in.SubjectType, "subject-type", "", "public (default) or pairwise")
	fl.StringVar(&in.SectorIdentifier, "sector", "", "pairwise sector (default: the redirect URIs' host)")
	fl.StringArrayVar(&in.Audience, "audience", nil, "extra access-token audience (repeatable)")
	return cmd
}

func newClientListCmd(g *globals) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registered clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Clients []map[string]any `json:"clients"`
			}
			if err := g.call(cmd.Context(), &f, true, "GET", "/api/v1/clients", nil, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) {
				for _, cl := range out.Clients {
					fprintf(w, "%v\t%v\t%v\tdisabled=%v\n", cl["client_id"], cl["client_name"], cl["token_endpoint_auth_method"], cl["disabled"])
				}
			})
		},
	}
	f.register(cmd, false)
	return cmd
}

func newClientDisableCmd(g *globals) *cobra.Command {
	var f clientFlags
	var id string
	cmd := &cobra.Command{
		Use:   "disable",
		Short: "Disable a client (it can no longer authenticate or start logins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.call(cmd.Context(), &f, true, "DELETE", "/api/v1/clients/"+id, nil, nil); err != nil {
				return err
			}
			return g.print(map[string]any{"client_id": id, "disabled": true}, func(w io.Writer) { fprintf(w, "disabled client %s\n", id) })
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&id, "id", "", "client_id")
	return cmd
}

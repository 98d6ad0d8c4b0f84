package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/internal/server"
)

// newOperatorCmd manages operator credentials directly in the store, on
// the server's host: the first administrator is made on first start, and
// each registration officer gets a credential of their own, so the audit
// trail names who did what.
func newOperatorCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "operator", Short: "Operator credentials (run on the server's host)"}
	var id, out string
	add := &cobra.Command{
		Use:   "add",
		Short: "Create an operator credential and write its token to a file only the owner can read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			err = writeSecret(out, true, func() ([]byte, error) {
				tok, err := server.AddOperator(cmd.Context(), cfg, id, time.Now())
				return []byte(tok + "\n"), err
			})
			if err != nil {
				return err
			}
			return g.print(map[string]string{"id": id, "token_file": out}, func(w io.Writer) {
				fprintf(w, "created operator %s; token in %s (give it to them, then delete the file)\n", id, out)
			})
		},
	}
	add.Flags().StringVar(&id, "id", "", "operator id, e.g. officer-tashkent-17")
	add.Flags().StringVar(&out, "out", "", "file to write the token to (must not exist)")
	_ = add.MarkFlagRequired("id")
	_ = add.MarkFlagRequired("out")
	cmd.AddCommand(add, newOperatorGrantCmd(g))
	return cmd
}

// newOperatorGrantCmd lets a person, identified by PINFL, obtain the
// officer scopes when they log in with their own certificate.
func newOperatorGrantCmd(g *globals) *cobra.Command {
	var pinfl, role string
	cmd := &cobra.Command{
		Use:   "grant",
		Short: "Let a person (by PINFL) receive officer or admin scopes when they log in with their certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !ca.ValidPINFL(pinfl) {
				return fmt.Errorf("--pinfl %q is not 14 digits", pinfl)
			}
			if role != "officer" && role != "admin" {
				return fmt.Errorf("--role must be officer or admin")
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			if err := server.GrantRole(cmd.Context(), cfg, pinfl, role, time.Now()); err != nil {
				return err
			}
			return g.print(map[string]string{"pinfl": pinfl, "role": role}, func(w io.Writer) {
				fprintf(w, "%s may now receive the %s scopes at login\n", pinfl, role)
			})
		},
	}
	cmd.Flags().StringVar(&pinfl, "pinfl", "", "the person's PINFL")
	cmd.Flags().StringVar(&role, "role", "officer", "officer (ca:officer) or admin (ca:officer, ca:admin, clients:admin)")
	return cmd
}

package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/apiclient"
)

func newRACmd(g *globals) *cobra.Command {
	ra := &cobra.Command{Use: "ra", Short: "Registration officer: record people and organizations, create enrollments"}
	person := &cobra.Command{Use: "person", Short: "People"}
	person.AddCommand(newPersonAddCmd(g))
	org := &cobra.Command{Use: "org", Short: "Organizations"}
	org.AddCommand(newOrgAddCmd(g))
	ra.AddCommand(person, org, newEnrollCmd(g))
	return ra
}

func newPersonAddCmd(g *globals) *cobra.Command {
	var f clientFlags
	var in apiclient.Person
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Record a person",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]any
			if err := g.call(cmd.Context(), &f, true, "POST", "/api/v1/persons", in, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) { fprintf(w, "recorded person %s\n", in.PINFL) })
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&in.PINFL, "pinfl", "", "personal identification number (14 digits)")
	cmd.Flags().StringVar(&in.GivenName, "given-name", "", "given name")
	cmd.Flags().StringVar(&in.Surname, "surname", "", "surname")
	cmd.Flags().StringVar(&in.Patronymic, "patronymic", "", "patronymic (optional)")
	cmd.Flags().StringVar(&in.BirthDate, "birth-date", "", "birth date, YYYY-MM-DD")
	return cmd
}

func newOrgAddCmd(g *globals) *cobra.Command {
	var f clientFlags
	var in apiclient.Organization
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Record an organization (or rename it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]any
			if err := g.call(cmd.Context(), &f, true, "POST", "/api/v1/organizations", in, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) { fprintf(w, "recorded organization %s\n", in.TIN) })
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&in.TIN, "tin", "", "taxpayer identification number (9 digits)")
	cmd.Flags().StringVar(&in.Name, "name", "", "organization name")
	return cmd
}

func newEnrollCmd(g *globals) *cobra.Command {
	var f clientFlags
	var ttl time.Duration
	var in apiclient.EnrollmentRequest
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "Create an enrollment and print its one-time code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.TTLSeconds = int64(ttl / time.Second)
			var out apiclient.Enrollment
			if err := g.call(cmd.Context(), &f, true, "POST", "/api/v1/enrollments", in, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) {
				fprintf(w, "enrollment code: %s\nexpires: %s\n", out.Code, out.ExpiresAt.Format(time.RFC3339))
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&in.PINFL, "pinfl", "", "the person's PINFL")
	cmd.Flags().StringVar(&in.Profile, "profile", "citizen", "certificate profile")
	cmd.Flags().StringVar(&in.TIN, "tin", "", "organization TIN (employee, official, service)")
	cmd.Flags().StringVar(&in.Title, "title", "", "position (official) or service name (service)")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "how long the code is valid (default: the server's, 7 days)")
	return cmd
}

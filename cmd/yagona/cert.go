package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/apiclient"
	"github.com/yagona/yagona/pkg/kms"
)

// printCert prints a certificate record.
func printCert(w io.Writer, r *apiclient.Certificate) {
	fprintf(w, "serial:  %s\nprofile: %s\npinfl:   %s\nstatus:  %s", r.Serial, r.Profile, r.PINFL, r.State())
	if r.Reason != "" {
		fprintf(w, " (%s since %s)", r.Reason, r.RevokedAt)
	}
	fprintf(w, "\nvalid:   %s to %s\n", r.NotBefore, r.NotAfter)
}

func newCertCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "Certificates: enroll, renew, show, list, revoke, suspend, resume"}
	cmd.AddCommand(newCertEnrollCmd(g), newCertRenewCmd(g), newCertShowCmd(g), newCertListCmd(g),
		newCertStatusCmd(g, "revoke", "Revoke a certificate"),
		newCertStatusCmd(g, "suspend", "Suspend a certificate (certificateHold)"),
		newCertStatusCmd(g, "resume", "Lift a suspension"))
	return cmd
}

func newCertShowCmd(g *globals) *cobra.Command {
	var f clientFlags
	var serial string
	cmd := &cobra.Command{
		Use: "show", Short: "Show a certificate and its status", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rec apiclient.Certificate
			if err := g.call(cmd.Context(), &f, true, "GET", "/api/v1/certificates/"+url.PathEscape(serial), nil, &rec); err != nil {
				return err
			}
			return g.print(rec, func(w io.Writer) { printCert(w, &rec) })
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&serial, "serial", "", "certificate serial (hex)")
	return cmd
}

func newCertListCmd(g *globals) *cobra.Command {
	var f clientFlags
	var pinfl string
	cmd := &cobra.Command{
		Use: "list", Short: "List a person's certificates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Certificates []apiclient.Certificate `json:"certificates"`
			}
			if err := g.call(cmd.Context(), &f, true, "GET", "/api/v1/certificates?pinfl="+url.QueryEscape(pinfl), nil, &out); err != nil {
				return err
			}
			return g.print(out, func(w io.Writer) {
				for _, r := range out.Certificates {
					fprintf(w, "%s  %-8s  %-9s  %s\n", r.Serial, r.Profile, r.State(), r.NotAfter)
				}
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&pinfl, "pinfl", "", "the person's PINFL")
	return cmd
}

func newCertStatusCmd(g *globals, action, short string) *cobra.Command {
	var f clientFlags
	var serial, reason string
	cmd := &cobra.Command{
		Use: action, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var body any
			if action == "revoke" && reason != "" {
				body = map[string]string{"reason": reason}
			}
			var rec apiclient.Certificate
			if err := g.call(cmd.Context(), &f, true, "POST", "/api/v1/certificates/"+url.PathEscape(serial)+"/"+action, body, &rec); err != nil {
				return err
			}
			return g.print(rec, func(w io.Writer) { printCert(w, &rec) })
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&serial, "serial", "", "certificate serial (hex)")
	if action == "revoke" {
		cmd.Flags().StringVar(&reason, "reason", "", "RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn (default unspecified)")
	}
	return cmd
}

func (g *globals) saveIssued(out, chainOut string, res apiclient.Issued) error {
	if err := os.WriteFile(out, []byte(res.Certificate), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(chainOut, []byte(res.Chain), 0o644); err != nil {
		return err
	}
	return g.print(res, func(w io.Writer) {
		fprintf(w, "certificate %s (%s) saved to %s, its issuing chain to %s; valid until %s\n",
			res.Serial, res.Profile, out, chainOut, res.NotAfter)
	})
}

func newCertEnrollCmd(g *globals) *cobra.Command {
	var f clientFlags
	var code, keyFile, csrFile, out, chainOut string
	cmd := &cobra.Command{
		Use: "enroll", Short: "Redeem an enrollment code: make a CSR with your key and save the certificate and chain", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if code == "" {
				return errors.New("--code is required")
			}
			csr, err := makeCSR(&f, keyFile, csrFile)
			if err != nil {
				return err
			}
			var res apiclient.Issued
			if err := g.call(cmd.Context(), &f, false, "POST", "/api/v1/certificates", map[string]string{"csr": csr, "enrollment_code": code}, &res); err != nil {
				return err
			}
			return g.saveIssued(out, chainOut, res)
		},
	}
	f.register(cmd, false)
	f.registerPass(cmd)
	cmd.Flags().StringVar(&code, "code", "", "the enrollment code from the registration officer")
	cmd.Flags().StringVar(&keyFile, "key", "key.pem", "your encrypted key (yagona key new)")
	cmd.Flags().StringVar(&csrFile, "csr", "", "send this PEM CSR (made by OpenSSL, say) instead of making one from --key")
	cmd.Flags().StringVar(&out, "out", "cert.pem", "where to save the certificate (PEM)")
	cmd.Flags().StringVar(&chainOut, "chain", "chain.pem", "where to save the issuing chain (PEM)")
	return cmd
}

func newCertRenewCmd(g *globals) *cobra.Command {
	var f clientFlags
	var newKey, out, chainOut string
	cmd := &cobra.Command{
		Use: "renew", Short: "Renew with proof of your current certificate (TLS client authentication) onto a new key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.certFile == "" {
				return errors.New("--cert and --key (the current certificate) are required")
			}
			csr, err := makeCSR(&f, newKey, "")
			if err != nil {
				return err
			}
			var res apiclient.Issued
			if err := g.call(cmd.Context(), &f, false, "POST", "/api/v1/certificates/renew", map[string]string{"csr": csr}, &res); err != nil {
				return err
			}
			return g.saveIssued(out, chainOut, res)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&newKey, "new-key", "", "the new encrypted key (yagona key new); same passphrase source")
	cmd.Flags().StringVar(&out, "out", "cert.pem", "where to save the new certificate (PEM)")
	cmd.Flags().StringVar(&chainOut, "chain", "chain.pem", "where to save the issuing chain (PEM)")
	return cmd
}

// makeCSR signs a PKCS#10 request with the key; the subject is left empty
// because the CA takes it from the registration record. With csrFile the
// request is that file's (made by OpenSSL, say) instead.
func makeCSR(f *clientFlags, keyFile, csrFile string) (string, error) {
	if csrFile != "" {
		b, err := os.ReadFile(csrFile)
		return string(b), err
	}
	key, err := f.loadKey(keyFile)
	if err != nil {
		return "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

func newKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Keys on this computer"}
	var f clientFlags
	var out, alg string
	newCmd := &cobra.Command{
		Use: "new", Short: "Make a key pair in an encrypted PKCS#8 file", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := f.passphrase()
			if err != nil {
				return err
			}
			err = writeSecret(out, true, func() ([]byte, error) {
				key, err := kms.GenerateKey(kms.Algorithm(alg))
				if err != nil {
					return nil, err
				}
				return kms.EncryptPEM(key, pass)
			})
			if err != nil {
				return err
			}
			return g.print(map[string]string{"key": out, "algorithm": alg}, func(w io.Writer) {
				fprintf(w, "wrote %s key to %s (encrypted)\n", alg, out)
			})
		},
	}
	f.registerPass(newCmd)
	newCmd.Flags().StringVar(&out, "out", "key.pem", "key file to create")
	newCmd.Flags().StringVar(&alg, "alg", "ecdsa-p256", "ecdsa-p256, ecdsa-p384, ed25519, rsa-2048, rsa-3072 or rsa-4096")
	cmd.AddCommand(newCmd)
	return cmd
}

package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/cades"
	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/trust"
	"github.com/yagona/yagona/pkg/validation"
)

// newSignCmd is `yagona sign FILE`: a CAdES signature with the person's
// key, B-B or B-T (with a time-stamp from the server's TSA).
func newSignCmd(g *globals) *cobra.Command {
	var f clientFlags
	var attached, pss bool
	var level, out, tsaURL string
	cmd := &cobra.Command{
		Use:   "sign FILE",
		Short: "Sign a file (CAdES B-B, or B-T with the server's time-stamp); writes FILE.p7s",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.needHolder(); err != nil {
				return err
			}
			lvl, err := cades.ParseLevel(level)
			if err != nil {
				return errors.New("--level must be B-B, B-T or B-LT")
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			sg, err := g.signer(&f, tsaURL, lvl)
			if err != nil {
				return err
			}
			sg.PSS = pss
			sig, err := sg.Sign(cmd.Context(), doc, !attached, lvl)
			if errors.Is(err, cades.ErrLoginStatement) {
				return fmt.Errorf("%s is a login statement, not a document; a login is proved only by signing the statement the login page shows: %w", args[0], err)
			}
			if err != nil {
				return err
			}
			if out == "" {
				out = args[0] + ".p7s"
			}
			if err := os.WriteFile(out, sig, 0o644); err != nil {
				return err
			}
			return g.print(map[string]any{"signature": out, "level": level, "detached": !attached}, func(w io.Writer) {
				fprintf(w, "signed %s (%s, %s): %s\n", args[0], level, map[bool]string{true: "attached", false: "detached"}[attached], out)
			})
		},
	}
	f.registerPass(cmd)
	cmd.Flags().StringVar(&f.certFile, "cert", "", "your certificate (PEM, leaf first, chain after)")
	cmd.Flags().StringVar(&f.keyFile, "key", "", "your encrypted key")
	cmd.Flags().BoolVar(&attached, "attached", false, "put the document inside the signature (default: detached)")
	cmd.Flags().Bool("detached", true, "keep the document outside the signature (the default)")
	cmd.Flags().BoolVar(&pss, "pss", false, "RSA keys: sign with RSASSA-PSS instead of PKCS#1 v1.5")
	cmd.Flags().StringVar(&level, "level", "B-T", "B-B; B-T (a signature time-stamp from the TSA); B-LT (also the revocation data of the signer's and the TSA's paths)")
	cmd.Flags().StringVar(&tsaURL, "tsa", "", "time-stamping authority URL (default: public_url.http/pki/tsa)")
	cmd.Flags().StringVar(&f.caFile, "ca-file", "", "trust anchor PEM to validate your chain before fetching its OCSP (default: DATA/certs/root.pem)")
	cmd.Flags().StringVar(&out, "out", "", "output file (default FILE.p7s)")
	return cmd
}

// newVerifyCmd is `yagona verify FILE [SIG]`: the server validates and
// reports; the command fails unless every signature is TOTAL-PASSED.
func newVerifyCmd(g *globals) *cobra.Command {
	var f clientFlags
	var trustFile string
	cmd := &cobra.Command{
		Use:   "verify FILE [SIGNATURE]",
		Short: "Validate a signature (attached: FILE is the signature; detached: FILE and SIGNATURE) and print the report",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if trustFile != "" {
				return g.verifyOffline(trustFile, args)
			}
			c, err := g.newClient(&f, false)
			if err != nil {
				return err
			}
			doc, sig := "", args[0]
			if len(args) == 2 {
				doc, sig = args[0], args[1]
			}
			rep, err := c.Verify(cmd.Context(), doc, sig)
			if err != nil {
				return err
			}
			if err := g.print(rep, func(w io.Writer) { printReport(w, rep) }); err != nil {
				return err
			}
			if rep.Indication != validation.TotalPassed {
				return fmt.Errorf("%s %s", rep.Indication, rep.SubIndication)
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&trustFile, "trust", "", "validate offline against the CA certificates in this PEM file (roots and intermediates); status only from the OCSP responses and CRLs the signature carries (B-LT)")
	return cmd
}

// verifyOffline validates without a server: the trust file's self-signed
// certificates are anchors, the others intermediates; revocation status
// comes only from the OCSP responses and CRLs carried in the signature
// (B-LT), so a B-B or B-T signature is INDETERMINATE TRY_LATER offline.
func (g *globals) verifyOffline(trustFile string, args []string) error {
	certs, err := certfile.Read(trustFile)
	if err != nil {
		return err
	}
	pol, err := config.ValidationPolicy()
	if err != nil {
		return err
	}
	tv, err := trust.VerifierFrom(certs, func(i int, r *x509.Certificate) string {
		return fmt.Sprintf("trust-%d: %s", i+1, r.Subject.CommonName)
	})
	if errors.Is(err, trust.ErrNoRoot) {
		return errors.New("--trust holds no self-signed root")
	}
	if err != nil {
		return err
	}
	v := &validation.Validator{Trust: tv, Policy: pol}
	var in validation.Input
	if len(args) == 2 {
		if in.Document, err = os.ReadFile(args[0]); err != nil {
			return err
		}
		args = args[1:]
	}
	if in.Signature, err = os.ReadFile(args[0]); err != nil {
		return err
	}
	rep := v.Validate(context.Background(), in)
	if err := g.print(rep, func(w io.Writer) { printReport(w, rep) }); err != nil {
		return err
	}
	if rep.Indication != validation.TotalPassed {
		return fmt.Errorf("%s %s", rep.Indication, rep.SubIndication)
	}
	return nil
}

func printReport(w io.Writer, rep *validation.Report) {
	fprintf(w, "%s %s (policy %s, at %s)\n", rep.Indication, rep.SubIndication, rep.Policy, rep.ValidationTime.Format(time.RFC3339))
	for i, s := range rep.Signers {
		who := "unknown signer"
		if s.Signer != nil {
			who = s.Signer.Name
			if s.Signer.PINFL != "" {
				who += " (PINFL " + s.Signer.PINFL + ")"
			}
			if s.Signer.Organization != "" {
				who += ", " + s.Signer.Organization
			}
		}
		fprintf(w, "signature %d: %s %s — %s; existed by %s (%s)\n", i+1, s.Indication, s.SubIndication, who,
			s.BestSignatureTime.Format(time.RFC3339), s.ProofOfExistence)
		for _, c := range s.Checks {
			if c.Result == "failed" {
				fprintf(w, "  %s %s: %s\n", c.Level, c.Constraint, c.Detail)
			}
		}
	}
}

// newCosignCmd is `yagona cosign FILE SIGNATURE`: add your signature to a
// detached signature of FILE; every earlier signature stays as it was.
func newCosignCmd(g *globals) *cobra.Command {
	var f clientFlags
	var level, out, tsaURL string
	cmd := &cobra.Command{
		Use:   "cosign FILE SIGNATURE",
		Short: "Add your signature to a signature of FILE, detached or attached (the others are kept byte for byte)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.needHolder(); err != nil {
				return err
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			prev, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			lvl := cades.LevelB
			if level == "B-T" {
				lvl = cades.LevelT
			}
			sg, err := g.signer(&f, tsaURL, lvl)
			if err != nil {
				return err
			}
			combined, err := sg.Cosign(cmd.Context(), doc, prev, lvl)
			if errors.Is(err, cades.ErrNotSignatureOf) {
				return fmt.Errorf("%s is not a valid signature of %s: %w", args[1], args[0], err)
			}
			if errors.Is(err, cades.ErrLoginStatement) {
				return fmt.Errorf("%s is a login statement, not a document: %w", args[0], err)
			}
			if err != nil {
				return err
			}
			if out == "" {
				out = args[1]
			}
			if err := os.WriteFile(out, combined, 0o644); err != nil {
				return err
			}
			return g.print(map[string]any{"signature": out}, func(w io.Writer) { fprintf(w, "co-signed %s: %s\n", args[0], out) })
		},
	}
	f.registerPass(cmd)
	cmd.Flags().StringVar(&f.certFile, "cert", "", "your certificate (PEM, leaf first, chain after)")
	cmd.Flags().StringVar(&f.keyFile, "key", "", "your encrypted key")
	cmd.Flags().StringVar(&level, "level", "B-T", "B-B, or B-T (a signature time-stamp from the TSA)")
	cmd.Flags().StringVar(&tsaURL, "tsa", "", "time-stamping authority URL (default: public_url.http/pki/tsa)")
	cmd.Flags().StringVar(&out, "out", "", "output file (default: overwrite SIGNATURE)")
	return cmd
}

// signer is the holder's signer (--cert, --key) with what level needs:
// the TSA (--tsa, else public_url.http/pki/tsa) from B-T on, the trust
// anchor (--ca-file, else the data directory's root) for B-LT.
func (g *globals) signer(f *clientFlags, tsaURL string, level cades.Level) (*cades.Signer, error) {
	chain, err := certfile.Read(f.certFile)
	if err != nil {
		return nil, err
	}
	key, err := f.loadKey(f.keyFile)
	if err != nil {
		return nil, err
	}
	s := &cades.Signer{Chain: chain, Key: key, TSA: tsaURL}
	if level != cades.LevelB && s.TSA == "" {
		cfg, err := g.config()
		if err != nil {
			return nil, err
		}
		s.TSA = strings.TrimSuffix(cfg.PublicURL.HTTP, "/") + "/pki/tsa"
	}
	if level == cades.LevelLT {
		caFile := f.caFile
		if caFile == "" {
			cfg, err := g.config()
			if err != nil {
				return nil, err
			}
			caFile = cfg.DataPath("certs/root.pem")
		}
		if s.Roots, err = certfile.Read(caFile); err != nil {
			return nil, fmt.Errorf("trust anchor: %w (pass --ca-file)", err)
		}
	}
	return s, nil
}

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/apiclient"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/kms"
)

// clientFlags are the flags of commands that talk to a running server.
type clientFlags struct {
	server    string
	caFile    string
	tokenFile string
	certFile  string // holder: TLS client certificate (PEM, chain allowed)
	keyFile   string // holder: its encrypted key
	passEnv   string
	passFile  string
}

// needHolder checks that the holder's certificate and key were given.
func (f *clientFlags) needHolder() error {
	if f.certFile == "" || f.keyFile == "" {
		return errors.New("--cert and --key are required")
	}
	return nil
}

func (f *clientFlags) register(cmd *cobra.Command, holder bool) {
	cmd.Flags().StringVar(&f.server, "server", "", "server base URL (default: public_url.https of the configuration)")
	cmd.Flags().StringVar(&f.caFile, "ca-file", "", "trust anchor PEM (default: DATA/certs/root.pem)")
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", "operator token file (default: $YAGONA_TOKEN, else DATA/secrets/admin-token)")
	if holder {
		cmd.Flags().StringVar(&f.certFile, "cert", "", "act as the holder of this certificate (PEM) instead of as an operator")
		cmd.Flags().StringVar(&f.keyFile, "key", "", "the holder's encrypted key file")
		f.registerPass(cmd)
	}
}

func (f *clientFlags) registerPass(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.passEnv, "passphrase-env", "YAGONA_KEY_PASSPHRASE", "environment variable holding the key passphrase")
	cmd.Flags().StringVar(&f.passFile, "passphrase-file", "", "file holding the key passphrase (instead of the environment)")
}

// newClient is a client of the server the flags (or the configuration)
// name, trusting the configured root, as the certificate holder with
// --cert, else with an operator token when operatorAuth.
func (g *globals) newClient(f *clientFlags, operatorAuth bool) (*apiclient.Client, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	o := apiclient.Options{Base: f.server}
	if o.Base == "" {
		o.Base = cfg.PublicURL.HTTPS
	}
	caFile := f.caFile
	if caFile == "" {
		caFile = cfg.DataPath("certs/root.pem")
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("trust anchor: %w (pass --ca-file)", err)
	}
	o.Roots = x509.NewCertPool()
	if !o.Roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("trust anchor: no certificate in %s", caFile)
	}
	if f.certFile != "" {
		if o.Certificate, err = f.holderCert(); err != nil {
			return nil, err
		}
	} else if operatorAuth {
		if o.Token, err = operatorToken(cfg, f); err != nil {
			return nil, err
		}
	}
	return apiclient.New(o), nil
}

// call makes one JSON call of the API (apiclient.Client.Do) as
// newClient's client.
func (g *globals) call(ctx context.Context, f *clientFlags, operatorAuth bool, method, path string, in, out any) error {
	c, err := g.newClient(f, operatorAuth)
	if err != nil {
		return err
	}
	return c.Do(ctx, method, path, in, out)
}

func operatorToken(cfg *config.Config, f *clientFlags) (string, error) {
	if f.tokenFile == "" {
		if t := os.Getenv("YAGONA_TOKEN"); t != "" {
			return t, nil
		}
		f.tokenFile = cfg.DataPath("secrets/admin-token")
	}
	return operator.ReadToken(f.tokenFile)
}

// holderCert loads the holder's certificate chain and decrypts the key.
func (f *clientFlags) holderCert() (*tls.Certificate, error) {
	chain, err := certfile.Read(f.certFile)
	if err != nil {
		return nil, err
	}
	key, err := f.loadKey(f.keyFile)
	if err != nil {
		return nil, err
	}
	cert := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

func (f *clientFlags) passphrase() ([]byte, error) {
	if f.passFile != "" {
		b, err := os.ReadFile(f.passFile)
		if err != nil {
			return nil, err
		}
		return bytes.TrimSpace(b), nil
	}
	if v := os.Getenv(f.passEnv); v != "" {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("key passphrase: set %s or pass --passphrase-file", f.passEnv)
}

func (f *clientFlags) loadKey(path string) (crypto.Signer, error) {
	if path == "" {
		return nil, errors.New("--key is required")
	}
	pass, err := f.passphrase()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return kms.DecryptPEM(b, pass)
}

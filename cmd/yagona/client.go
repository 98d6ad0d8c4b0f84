package main

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/yagona/yagona/internal/config"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/operator"
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

// client is an HTTPS client of the Yagona API.
type client struct {
	base  string
	http  *http.Client
	token string
}

func (g *globals) newClient(f *clientFlags, operatorAuth bool) (*client, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	base := f.server
	if base == "" {
		base = cfg.PublicURL.HTTPS
	}
	caFile := f.caFile
	if caFile == "" {
		caFile = cfg.DataPath("certs/root.pem")
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("trust anchor: %w (pass --ca-file)", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("trust anchor: no certificate in %s", caFile)
	}
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c := &client{base: strings.TrimSuffix(base, "/")}
	if f.certFile != "" {
		cert, err := f.holderCert()
		if err != nil {
			return nil, err
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	} else if operatorAuth {
		if c.token, err = operatorToken(cfg, f); err != nil {
			return nil, err
		}
	}
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	return c, nil
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
func (f *clientFlags) holderCert() (tls.Certificate, error) {
	chainPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := f.loadKey(f.keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	var cert tls.Certificate
	for _, der := range pemBlocks(chainPEM, "CERTIFICATE") {
		cert.Certificate = append(cert.Certificate, der)
	}
	if len(cert.Certificate) == 0 {
		return cert, fmt.Errorf("%s: no certificate", f.certFile)
	}
	cert.PrivateKey = key
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
	return decryptKey(b, pass)
}

// apiError is an error answer of the API.
type apiError struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
	Desc    string `json:"error_description"` // OAuth-style errors of the provider's API
}

func (e *apiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Desc
	}
	return fmt.Sprintf("server: %s (%d): %s", e.Code, e.Status, msg)
}

// do sends a JSON request and decodes a JSON answer into out.
func (c *client) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code, e.Message = "http_error", strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/pkg/cms"
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
			chain, err := readCerts(f.certFile)
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
			jar, _ := cookiejar.New(nil)
			c.http.Jar = jar
			c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			tok, granted, err := certificateLogin(c, chain[0], chain[1:], key, scopes)
			if err != nil {
				return err
			}
			fh, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if _, err := fh.WriteString(tok + "\n"); err != nil {
				fh.Close()
				return err
			}
			if err := fh.Close(); err != nil {
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

// certificateLogin runs authorize, challenge, CMS signature and code
// exchange as the public client yagona-cli.
func certificateLogin(c *client, leaf *x509.Certificate, chain []*x509.Certificate, signer crypto.Signer, scopes []string) (string, string, error) {
	vb := make([]byte, 32)
	_, _ = rand.Read(vb)
	verifier := base64.RawURLEncoding.EncodeToString(vb)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {idp.CLIClientID}, "redirect_uri": {idp.CLIRedirectURI}, "response_type": {"code"}, "scope": {strings.Join(scopes, " ")},
		"state": {verifier[:16]}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := c.http.Get(c.base + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/login?request=")
	if resp.StatusCode != http.StatusFound || !ok {
		return "", "", fmt.Errorf("authorize: %d %s", resp.StatusCode, loc)
	}
	var ch struct {
		ToSign string `json:"to_sign"`
	}
	if err := c.postJSON("/login/challenge", map[string]string{"request": id}, &ch); err != nil {
		return "", "", err
	}
	der, err := cms.Sign([]byte(ch.ToSign), leaf, chain, signer, false, time.Now())
	if err != nil {
		return "", "", err
	}
	var done struct {
		Redirect string `json:"redirect"`
	}
	if err := c.postJSON("/login/certificate", map[string]string{"request": id, "signature": base64.StdEncoding.EncodeToString(der)}, &done); err != nil {
		return "", "", err
	}
	ru, err := url.Parse(done.Redirect)
	if err != nil || ru.Query().Get("code") == "" {
		return "", "", fmt.Errorf("login: no code in %q", done.Redirect)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {idp.CLIClientID}, "code": {ru.Query().Get("code")},
		"redirect_uri": {idp.CLIRedirectURI}, "code_verifier": {verifier}}
	resp, err = c.http.PostForm(c.base+"/oauth2/token", form)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
		Error       string `json:"error"`
		Desc        string `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("token: %s: %s", tok.Error, tok.Desc)
	}
	return tok.AccessToken, tok.Scope, nil
}

// postJSON posts to one of the provider's JSON endpoints.
func (c *client) postJSON(path string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		e := &apiError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, e)
		return e
	}
	return json.Unmarshal(data, out)
}

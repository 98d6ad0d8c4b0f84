package apiclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/pkg/cms"
)

// maxLoginAnswer caps each answer of the login's endpoints.
const maxLoginAnswer = 1 << 20

// CertificateLogin logs a person in with their own certificate and key
// through the challenge the login page uses, as the public client
// yagona-cli (authorization code with PKCE): authorize, challenge, a CMS
// signature over it, code exchange. It returns the access token and the
// scopes granted. The client's own TLS client certificate, if any, is
// not what proves the person: the signature is.
func (c *Client) CertificateLogin(ctx context.Context, leaf *x509.Certificate, chain []*x509.Certificate, signer crypto.Signer, scopes []string) (token, granted string, err error) {
	jar, _ := cookiejar.New(nil)
	hc := *c.http
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	l := &login{Client: c, hc: &hc}
	vb := make([]byte, 32)
	if _, err := rand.Read(vb); err != nil {
		return "", "", err
	}
	verifier := base64.RawURLEncoding.EncodeToString(vb)
	id, err := l.authorize(ctx, verifier, scopes)
	if err != nil {
		return "", "", err
	}
	var ch struct {
		ToSign string `json:"to_sign"`
	}
	if err := l.postJSON(ctx, "/login/challenge", map[string]string{"request": id}, &ch); err != nil {
		return "", "", err
	}
	der, err := cms.Sign([]byte(ch.ToSign), leaf, chain, signer, false, time.Now())
	if err != nil {
		return "", "", err
	}
	var done struct {
		Redirect string `json:"redirect"`
	}
	if err := l.postJSON(ctx, "/login/certificate", map[string]string{"request": id, "signature": base64.StdEncoding.EncodeToString(der)}, &done); err != nil {
		return "", "", err
	}
	ru, err := url.Parse(done.Redirect)
	if err != nil || ru.Query().Get("code") == "" {
		return "", "", fmt.Errorf("login: no code in %q", done.Redirect)
	}
	return l.exchange(ctx, ru.Query().Get("code"), verifier)
}

// login is one certificate login: the client with its own cookies, not
// following redirects.
type login struct {
	*Client
	hc *http.Client
}

// authorize starts the flow and returns the login request's id.
func (l *login) authorize(ctx context.Context, verifier string, scopes []string) (string, error) {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {idp.CLIClientID}, "redirect_uri": {idp.CLIRedirectURI}, "response_type": {"code"}, "scope": {strings.Join(scopes, " ")},
		"state": {verifier[:16]}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/oauth2/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/login?request=")
	if resp.StatusCode != http.StatusFound || !ok {
		return "", fmt.Errorf("authorize: %d %s", resp.StatusCode, loc)
	}
	return id, nil
}

// exchange trades the code for the access token.
func (l *login) exchange(ctx context.Context, code, verifier string) (string, string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {idp.CLIClientID}, "code": {code},
		"redirect_uri": {idp.CLIRedirectURI}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := l.hc.Do(req)
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
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxLoginAnswer)).Decode(&tok); err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("token: %s: %s", tok.Error, tok.Desc)
	}
	return tok.AccessToken, tok.Scope, nil
}

// postJSON posts to one of the provider's JSON login endpoints.
func (l *login) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return doJSON(l.hc, req, out)
}

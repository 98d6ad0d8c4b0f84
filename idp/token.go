package idp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/yagona/yagona/pkg/httpjson"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// grant is what a code or refresh token stands for.
type grant struct {
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	CodeChallenge string   `json:"code_challenge,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	SID           string   `json:"sid"`
	Person        person   `json:"person"`
	Scopes        []string `json:"scopes"`
	AuthTime      int64    `json:"auth_time"`
	ACR           string   `json:"acr"`
	AMR           []string `json:"amr"`
}

// codeUse remembers what a redeemed code produced, so a replay revokes it.
type codeUse struct {
	FamilyID string `json:"family,omitempty"`
	JTI      string `json:"jti"`
	Exp      int64  `json:"exp"`
}

const (
	assertionType   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	refreshPrefix   = "yrt_"
	typAccessToken  = "at+jwt"
	typLogoutToken  = "logout+jwt"
	maxAssertionTTL = 10 * time.Minute
)

// handleToken is the token endpoint.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := params(r)
	if err != nil {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "malformed form body").with(err))
		return
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/x-www-form-urlencoded" {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "Content-Type must be application/x-www-form-urlencoded"))
		return
	}
	c, err := p.authenticateClient(ctx, r, v, pathToken)
	if err != nil {
		p.m.token.WithLabelValues("invalid_client").Inc()
		p.writeOAuthError(w, r, err)
		return
	}
	var resp map[string]any
	gt := v.Get("grant_type")
	switch gt {
	case GrantCode:
		resp, err = p.exchangeCode(ctx, r, c, v)
	case GrantRefresh:
		resp, err = p.exchangeRefresh(ctx, r, c, v)
	case GrantClientCredentials:
		resp, err = p.clientCredentials(ctx, r, c, v)
	case "":
		err = oerr(errInvalidRequest, "grant_type is required")
	default:
		err = oerr(errUnsupportedGrant, "unsupported grant_type")
	}
	if err != nil {
		oe := asOAuth(err)
		if oe.Code == errInvalidGrant {
			p.fail(ctx, r, c.ID)
		}
		p.m.token.WithLabelValues(oe.Code).Inc()
		p.writeOAuthError(w, r, err)
		return
	}
	p.m.token.WithLabelValues(gt).Inc()
	httpjson.Write(w, http.StatusOK, resp)
}

func (p *Provider) exchangeCode(ctx context.Context, r *http.Request, c *Client, v url.Values) (map[string]any, error) {
	defer p.m.since(stepCodeExchange, time.Now())
	if !c.has(GrantCode) {
		return nil, oerr(errUnauthorizedClient, "the client may not use this grant")
	}
	code := v.Get("code")
	if code == "" || len(code) > 64 {
		return nil, oerr(errInvalidRequest, "code is required")
	}
	var g grant
	found, err := p.takeJSON(ctx, hashKey("code:", code), &g)
	if err != nil {
		return nil, err
	}
	if !found {
		p.revokeCodeReplay(ctx, code)
		return nil, oerr(errInvalidGrant, "the code is invalid, expired or already used")
	}
	if g.ClientID != c.ID {
		return nil, oerr(errInvalidGrant, "the code was issued to another client")
	}
	if ru := v.Get("redirect_uri"); ru != "" && ru != g.RedirectURI {
		return nil, oerr(errInvalidGrant, "redirect_uri does not match the authorization request")
	}
	verifier := v.Get("code_verifier")
	if len(verifier) < 43 || len(verifier) > 128 || !pkceChars(verifier) {
		return nil, oerr(errInvalidGrant, "code_verifier is missing or malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.CodeChallenge)) != 1 {
		return nil, oerr(errInvalidGrant, "code_verifier does not match the code_challenge")
	}
	resp, use, err := p.issueTokens(ctx, r, c, &g, "")
	if err != nil {
		return nil, err
	}
	if err := p.putJSON(ctx, hashKey("codeused:", code), use, p.cfg.AccessTokenTTL+p.cfg.CodeTTL); err != nil {
		p.log.WarnContext(ctx, "code replay guard not stored", "err", err)
	}
	return resp, nil
}

func pkceChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// revokeCodeReplay revokes what a code issued when it comes back (RFC
// 6749 §4.1.2, RFC 9700 §4.5).
func (p *Provider) revokeCodeReplay(ctx context.Context, code string) {
	var use codeUse
	found, err := p.getJSON(ctx, hashKey("codeused:", code), &use)
	if err != nil || !found {
		return
	}
	p.log.WarnContext(ctx, "authorization code replayed: revoking its tokens", "jti", use.JTI)
	p.revokeJTI(ctx, use.JTI, use.Exp)
	if use.FamilyID != "" {
		if err := p.st.RevokeRefreshFamily(ctx, use.FamilyID, p.now()); err != nil && !isNotFound(err) {
			p.log.ErrorContext(ctx, "revoke refresh family failed", "err", err)
		}
	}
}

func (p *Provider) revokeJTI(ctx context.Context, jti string, exp int64) {
	ttl := time.Unix(exp, 0).Sub(p.now()) + time.Minute
	if ttl <= 0 {
		return
	}
	if err := p.cache.Set(ctx, "revoked:"+jti, []byte{1}, ttl); err != nil {
		p.log.ErrorContext(ctx, "access token revocation not stored", "err", err)
	}
}

func (p *Provider) jtiRevoked(ctx context.Context, jti string) (bool, error) {
	_, err := p.cache.Get(ctx, "revoked:"+jti)
	if err == nil {
		return true, nil
	}
	if isMiss(err) {
		return false, nil
	}
	return false, err
}

func (p *Provider) exchangeRefresh(ctx context.Context, r *http.Request, c *Client, v url.Values) (map[string]any, error) {
	if !c.has(GrantRefresh) {
		return nil, oerr(errUnauthorizedClient, "the client may not use this grant")
	}
	tok := v.Get("refresh_token")
	if !strings.HasPrefix(tok, refreshPrefix) || len(tok) > 100 {
		return nil, oerr(errInvalidGrant, "the refresh token is invalid")
	}
	h := sha256.Sum256([]byte(tok))
	next, nextTok := p.newRefresh()
	old, err := p.st.RotateRefreshToken(ctx, h[:], next, p.now())
	switch {
	case errors.Is(err, store.ErrReused):
		p.log.WarnContext(ctx, "refresh token reused: family revoked", "client", c.ID)
		return nil, oerr(errInvalidGrant, "the refresh token was already used; its family is revoked")
	case isNotFound(err), errors.Is(err, store.ErrConflict):
		return nil, oerr(errInvalidGrant, "the refresh token is invalid, expired or revoked")
	case err != nil:
		return nil, err
	}
	if old.ClientID != c.ID {
		_ = p.st.RevokeRefreshFamily(ctx, old.FamilyID, p.now())
		return nil, oerr(errInvalidGrant, "the refresh token was issued to another client")
	}
	var g grant
	if err := json.Unmarshal(old.Grant, &g); err != nil {
		return nil, err
	}
	if s := strings.Fields(v.Get("scope")); len(s) > 0 {
		for _, x := range s {
			if !slices.Contains(g.Scopes, x) {
				return nil, oerr(errInvalidScope, "scope "+x+" was not granted")
			}
		}
		g.Scopes = dedupe(s)
	}
	resp, _, err := p.issueTokensWithRefresh(ctx, r, c, &g, nextTok, false)
	return resp, err
}

// newRefresh makes the next refresh token of a family (the store fills in
// the family fields).
func (p *Provider) newRefresh() (store.RefreshToken, string) {
	tok := refreshPrefix + randomToken(32)
	h := sha256.Sum256([]byte(tok))
	now := p.now()
	return store.RefreshToken{Hash: h[:], CreatedAt: now, ExpiresAt: now.Add(p.cfg.RefreshTTL)}, tok
}

func (p *Provider) clientCredentials(ctx context.Context, r *http.Request, c *Client, v url.Values) (map[string]any, error) {
	if !c.has(GrantClientCredentials) {
		return nil, oerr(errUnauthorizedClient, "the client may not use client_credentials")
	}
	scopes := strings.Fields(v.Get("scope"))
	for _, s := range scopes {
		if s == "openid" || s == "offline_access" || !c.allowsScope(s) {
			return nil, oerr(errInvalidScope, "scope "+s+" is not allowed for this client")
		}
	}
	now := p.now()
	at, jti, exp, err := p.accessToken(ctx, r, c, c.ID, dedupe(scopes), nil, now)
	if err != nil {
		return nil, err
	}
	_ = jti
	_ = exp
	return map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(p.cfg.AccessTokenTTL / time.Second),
		"scope": strings.Join(scopes, " ")}, nil
}

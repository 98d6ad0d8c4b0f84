package idp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

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
	writeJSON(w, http.StatusOK, resp)
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

// issueTokens answers a code exchange: access token, ID token (scope
// openid) and a new refresh family (if the client may refresh).
func (p *Provider) issueTokens(ctx context.Context, r *http.Request, c *Client, g *grant, _ string) (map[string]any, codeUse, error) {
	var refresh string
	var family string
	if c.has(GrantRefresh) {
		t, tok := p.newRefresh()
		t.FamilyID, t.ClientID, t.Subject, t.SessionID = randomToken(16), c.ID, g.Person.PINFL, g.SID
		gr := *g
		gr.CodeChallenge, gr.RedirectURI, gr.Nonce = "", "", ""
		b, err := json.Marshal(gr)
		if err != nil {
			return nil, codeUse{}, err
		}
		t.Grant = b
		if err := p.st.CreateRefreshToken(ctx, t); err != nil {
			return nil, codeUse{}, err
		}
		refresh, family = tok, t.FamilyID
	}
	resp, use, err := p.issueTokensWithRefresh(ctx, r, c, g, refresh, true)
	use.FamilyID = family
	return resp, use, err
}

// issueTokensWithRefresh answers with an access token, the refresh token
// given, and with idToken (the code exchange) an ID token. A refresh
// answers without one: OpenID Connect Core §12.2 allows it, the person's
// authentication has not changed, and current claims are at userinfo.
// It saves a signature on the hottest path.
func (p *Provider) issueTokensWithRefresh(ctx context.Context, r *http.Request, c *Client, g *grant, refresh string, idToken bool) (map[string]any, codeUse, error) {
	now := p.now()
	sub := p.subject(c, g.Person.PINFL)
	at, jti, exp, err := p.accessToken(ctx, r, c, sub, g.Scopes, g, now)
	if err != nil {
		return nil, codeUse{}, err
	}
	if err := p.putJSON(ctx, "ui:"+jti, g.Person, time.Unix(exp, 0).Sub(now)+time.Minute); err != nil {
		return nil, codeUse{}, err
	}
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(p.cfg.AccessTokenTTL / time.Second),
		"scope": strings.Join(g.Scopes, " ")}
	if idToken && slices.Contains(g.Scopes, "openid") {
		idt, err := p.idToken(ctx, c, sub, g, at, now)
		if err != nil {
			return nil, codeUse{}, err
		}
		resp["id_token"] = idt
	}
	if refresh != "" {
		resp["refresh_token"] = refresh
	}
	return resp, codeUse{JTI: jti, Exp: exp}, nil
}

// subject is the sub for a person at a client: an HMAC of the PINFL,
// public (the same for every client) or pairwise per sector.
func (p *Provider) subject(c *Client, pinfl string) string {
	m := hmac.New(sha256.New, p.cfg.SubjectSecret)
	if c.SubjectType == "pairwise" {
		m.Write([]byte("pairwise\x00" + c.SectorIdentifier + "\x00" + pinfl))
	} else {
		m.Write([]byte("public\x00" + pinfl))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// accessClaims is an RFC 9068 JWT access token.
type accessClaims struct {
	Iss      string            `json:"iss"`
	Sub      string            `json:"sub"`
	Aud      []string          `json:"aud"`
	Exp      int64             `json:"exp"`
	Iat      int64             `json:"iat"`
	Jti      string            `json:"jti"`
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope,omitempty"`
	AuthTime int64             `json:"auth_time,omitempty"`
	ACR      string            `json:"acr,omitempty"`
	AMR      []string          `json:"amr,omitempty"`
	SID      string            `json:"sid,omitempty"`
	PINFL    string            `json:"pinfl,omitempty"`
	Cnf      map[string]string `json:"cnf,omitempty"`
}

func (p *Provider) accessToken(ctx context.Context, r *http.Request, c *Client, sub string, scopes []string, g *grant, now time.Time) (string, string, int64, error) {
	cl := accessClaims{Iss: p.cfg.Issuer, Sub: sub, Aud: append([]string{p.cfg.Issuer}, c.Audience...), Iat: now.Unix(),
		Exp: now.Add(p.cfg.AccessTokenTTL).Unix(), Jti: randomToken(16), ClientID: c.ID, Scope: strings.Join(scopes, " ")}
	if g != nil {
		cl.AuthTime, cl.ACR, cl.AMR, cl.SID = g.AuthTime, g.ACR, g.AMR, g.SID
		if slices.Contains(scopes, "pinfl") {
			cl.PINFL = g.Person.PINFL
		}
	}
	if c.AuthMethod == AuthTLSClient && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cl.Cnf = map[string]string{"x5t#S256": base64.RawURLEncoding.EncodeToString(thumbprint(r.TLS.PeerCertificates[0]))}
	}
	tok, err := p.signJWT(ctx, typAccessToken, cl)
	return tok, cl.Jti, cl.Exp, err
}

func (p *Provider) idToken(ctx context.Context, c *Client, sub string, g *grant, at string, now time.Time) (string, error) {
	h := sha256.Sum256([]byte(at))
	cl := map[string]any{"iss": p.cfg.Issuer, "sub": sub, "aud": c.ID, "azp": c.ID, "iat": now.Unix(),
		"exp": now.Add(p.cfg.IDTokenTTL).Unix(), "auth_time": g.AuthTime, "acr": g.ACR, "amr": g.AMR, "sid": g.SID,
		"at_hash": base64.RawURLEncoding.EncodeToString(h[:16])}
	if g.Nonce != "" {
		cl["nonce"] = g.Nonce
	}
	for k, v := range personClaims(g.Person, g.Scopes) {
		cl[k] = v
	}
	return p.signJWT(ctx, "JWT", cl)
}

// personClaims are the claims each scope releases.
func personClaims(pr person, scopes []string) map[string]any {
	out := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	if slices.Contains(scopes, "profile") {
		set("given_name", pr.GivenName)
		set("family_name", pr.FamilyName)
		set("name", pr.Name)
		set("birthdate", pr.Birthdate)
	}
	if slices.Contains(scopes, "pinfl") {
		set("pinfl", pr.PINFL)
	}
	if slices.Contains(scopes, "organization") {
		set("tin", pr.TIN)
		set("organization", pr.Organization)
		set("position", pr.Position)
	}
	return out
}

// authenticateClient authenticates the client calling endpoint with the
// method it registered, and no other.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, v url.Values, endpoint string) (*Client, error) {
	bad := oerr(errInvalidClient, "client authentication failed")
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, bad
		}
	}
	assertion := v.Get("client_assertion")
	if assertion != "" && v.Get("client_assertion_type") != assertionType {
		return nil, oerr(errInvalidClient, "client_assertion_type must be "+assertionType)
	}
	if assertion != "" && basic {
		return nil, oerr(errInvalidRequest, "more than one client authentication method")
	}
	if assertion != "" {
		var err error
		if id, err = assertionIssuer(assertion); err != nil {
			return nil, bad.with(err)
		}
	}
	if !basic && assertion == "" {
		id = v.Get("client_id")
	}
	postSecret := v.Get("client_secret")
	if postSecret != "" && (basic || assertion != "") {
		return nil, oerr(errInvalidRequest, "more than one client authentication method")
	}
	if cid := v.Get("client_id"); cid != "" && cid != id {
		return nil, oerr(errInvalidClient, "client_id does not match the client authentication")
	}
	if id == "" {
		return nil, oerr(errInvalidClient, "no client authentication")
	}
	if p.limited(ctx, r, id) {
		return nil, oerr(errSlowDown, "too many failed attempts; wait a minute")
	}
	c, err := p.client(ctx, id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		p.fail(ctx, r, "")
		return nil, bad
	}
	ok := false
	switch c.AuthMethod {
	case AuthSecretBasic:
		// A secret is accepted in the Authorization header (preferred) or
		// in the body (client_secret_post), never both.
		if basic {
			ok = c.secretMatches(secret)
		} else if postSecret != "" {
			ok = c.secretMatches(postSecret)
		}
	case AuthPrivateKeyJWT:
		if assertion != "" {
			if err := p.checkAssertion(ctx, c, assertion, endpoint); err != nil {
				p.log.DebugContext(ctx, "client assertion refused", "client", c.ID, "err", err)
			} else {
				ok = true
			}
		}
	case AuthTLSClient:
		ok = !basic && assertion == "" && postSecret == "" && p.checkClientTLS(ctx, r, c) == nil
	case AuthNone:
		ok = !basic && assertion == "" && postSecret == ""
	}
	if !ok {
		p.fail(ctx, r, c.ID)
		return nil, bad
	}
	return c, nil
}

// assertionIssuer reads iss from an assertion before it is verified, only
// to find the client whose keys verify it.
func assertionIssuer(tok string) (string, error) {
	if len(tok) > maxTokenSize {
		return "", errors.New("assertion too large")
	}
	var cl jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &cl); err != nil {
		return "", err
	}
	return cl.Issuer, nil
}

// checkAssertion validates a private_key_jwt client assertion (RFC 7523
// §3): signed by a registered key, iss = sub = client_id, aud naming this
// provider, exp in the near future, jti never seen before.
func (p *Provider) checkAssertion(ctx context.Context, c *Client, tok, endpoint string) error {
	var cl jwt.RegisteredClaims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}),
		jwt.WithExpirationRequired(), jwt.WithIssuer(c.ID), jwt.WithSubject(c.ID), jwt.WithTimeFunc(p.now), jwt.WithLeeway(30*time.Second))
	_, err := parser.ParseWithClaims(tok, &cl, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		var cands []jwt.VerificationKey
		for _, k := range c.keys.Keys {
			if kid == "" || k.KeyID == kid {
				cands = append(cands, k.Key)
			}
		}
		if len(cands) == 0 {
			return nil, errors.New("no registered key matches")
		}
		return jwt.VerificationKeySet{Keys: cands}, nil
	})
	if err != nil {
		return err
	}
	audOK := false
	for _, a := range cl.Audience {
		if a == p.cfg.Issuer || a == p.url(endpoint) || a == p.url(pathToken) {
			audOK = true
		}
	}
	if !audOK {
		return fmt.Errorf("audience %v does not name this provider", cl.Audience)
	}
	now := p.now()
	if cl.ExpiresAt.Sub(now) > maxAssertionTTL {
		return errors.New("assertion lives too long")
	}
	if cl.ID == "" || len(cl.ID) > 256 {
		return errors.New("jti is required")
	}
	fresh, err := p.cache.Add(ctx, "jti:"+c.ID+":"+hashKey("", cl.ID), []byte{1}, cl.ExpiresAt.Sub(now)+time.Minute)
	if err != nil {
		return err
	}
	if !fresh {
		return errors.New("jti replayed")
	}
	return nil
}

// checkClientTLS checks the connection's client certificate for a
// tls_client_auth client: issued by our CA (any anchor), valid, not
// revoked, with the registered subject.
func (p *Provider) checkClientTLS(ctx context.Context, r *http.Request, c *Client) error {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return errors.New("no client certificate")
	}
	leaf := r.TLS.PeerCertificates[0]
	if leaf.Subject.String() != c.TLSSubjectDN {
		return errors.New("subject does not match")
	}
	return p.cfg.Certs.CheckService(ctx, leaf, r.TLS.PeerCertificates[1:], p.now())
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func storeConsent(subject, clientID string, scopes []string, now time.Time) store.Consent {
	return store.Consent{Subject: subject, ClientID: clientID, Scopes: scopes, GrantedAt: now}
}

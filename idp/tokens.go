package idp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

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

// claimsSupported are the claims of ID tokens (idToken) and userinfo
// (personClaims).
var claimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash",
	"given_name", "family_name", "name", "birthdate", "pinfl", "tin", "organization", "position"}

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

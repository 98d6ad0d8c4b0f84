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
)

// verifyAccessToken checks one of our JWT access tokens: signature, typ,
// issuer, expiry and revocation.
func (p *Provider) verifyAccessToken(ctx context.Context, tok string) (*accessClaims, error) {
	payload, err := p.verifyJWT(ctx, tok, typAccessToken)
	if err != nil {
		return nil, err
	}
	var cl accessClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, err
	}
	if cl.Iss != p.cfg.Issuer {
		return nil, errors.New("wrong issuer")
	}
	if p.now().Unix() >= cl.Exp {
		return nil, errors.New("expired")
	}
	revoked, err := p.jtiRevoked(ctx, cl.Jti)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errors.New("revoked")
	}
	return &cl, nil
}

// AccessToken is a verified access token as the CA's API sees it.
type AccessToken struct {
	Subject  string
	ClientID string
	Scopes   []string
	PINFL    string
	ACR      string
}

// VerifyAccessToken checks a bearer access token for a resource server
// in this process (the CA's officer and admin API). A certificate-bound
// token needs the same certificate on the request (RFC 8705 §3).
func (p *Provider) VerifyAccessToken(r *http.Request, tok string) (*AccessToken, error) {
	cl, err := p.verifyAccessToken(r.Context(), tok)
	if err != nil {
		return nil, err
	}
	if err := checkBinding(r, cl); err != nil {
		return nil, err
	}
	return &AccessToken{Subject: cl.Sub, ClientID: cl.ClientID, Scopes: strings.Fields(cl.Scope), PINFL: cl.PINFL, ACR: cl.ACR}, nil
}

func checkBinding(r *http.Request, cl *accessClaims) error {
	want := cl.Cnf["x5t#S256"]
	if want == "" {
		return nil
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return errors.New("certificate-bound token without a client certificate")
	}
	got := base64.RawURLEncoding.EncodeToString(thumbprint(r.TLS.PeerCertificates[0]))
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("client certificate does not match the token's binding")
	}
	return nil
}

// handleUserinfo answers the claims the token's scopes release.
func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tok, _ := httpjson.Bearer(r)
	if tok == "" && r.Method == http.MethodPost {
		if v, err := params(r); err == nil {
			tok = v.Get("access_token")
		}
	}
	if tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
		httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": errInvalidRequest, "error_description": "no access token"})
		return
	}
	cl, err := p.verifyAccessToken(ctx, tok)
	if err == nil {
		err = checkBinding(r, cl)
	}
	if err != nil {
		p.writeOAuthError(w, r, oerr(errInvalidToken, "the access token is invalid").with(err))
		return
	}
	scopes := strings.Fields(cl.Scope)
	if !slices.Contains(scopes, "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		httpjson.Write(w, http.StatusForbidden, map[string]string{"error": errInsufficientScope})
		return
	}
	var pr person
	found, err := p.getJSON(ctx, "ui:"+cl.Jti, &pr)
	if err != nil {
		p.writeOAuthError(w, r, oerr(errTemporarilyUnavail, "try again").with(err))
		return
	}
	if !found {
		p.writeOAuthError(w, r, oerr(errInvalidToken, "the access token is no longer valid"))
		return
	}
	out := personClaims(pr, scopes)
	out["sub"] = cl.Sub
	httpjson.Write(w, http.StatusOK, out)
}

// tokenRequest reads the form of an introspection or revocation request,
// authenticates the client and returns the token; on failure it has
// answered.
func (p *Provider) tokenRequest(w http.ResponseWriter, r *http.Request, endpoint string) (*Client, url.Values, string, bool) {
	v, err := params(r)
	if err != nil {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "malformed form").with(err))
		return nil, nil, "", false
	}
	c, err := p.authenticateClient(r.Context(), r, v, endpoint)
	if err != nil {
		p.writeOAuthError(w, r, err)
		return nil, nil, "", false
	}
	tok := v.Get("token")
	if tok == "" {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "token is required"))
		return nil, nil, "", false
	}
	return c, v, tok, true
}

// handleIntrospect is RFC 7662: a client learns about a token issued to
// it, or to a client naming it as an audience.
func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, _, tok, ok := p.tokenRequest(w, r, pathIntrospect)
	if !ok {
		return
	}
	inactive := map[string]any{"active": false}
	if strings.HasPrefix(tok, refreshPrefix) {
		h := sha256.Sum256([]byte(tok))
		rt, err := p.st.GetRefreshToken(ctx, h[:])
		if err != nil || rt.ClientID != c.ID || !rt.UsedAt.IsZero() || !rt.RevokedAt.IsZero() || !p.now().Before(rt.ExpiresAt) {
			httpjson.Write(w, http.StatusOK, inactive)
			return
		}
		var g grant
		_ = json.Unmarshal(rt.Grant, &g)
		httpjson.Write(w, http.StatusOK, map[string]any{"active": true, "token_type": "refresh_token", "client_id": rt.ClientID,
			"sub": p.subject(c, g.Person.PINFL), "scope": strings.Join(g.Scopes, " "), "exp": rt.ExpiresAt.Unix(),
			"iat": rt.CreatedAt.Unix(), "iss": p.cfg.Issuer})
		return
	}
	cl, err := p.verifyAccessToken(ctx, tok)
	if err != nil || (cl.ClientID != c.ID && !slices.Contains(cl.Aud, c.ID)) {
		httpjson.Write(w, http.StatusOK, inactive)
		return
	}
	out := map[string]any{"active": true, "token_type": "Bearer", "client_id": cl.ClientID, "sub": cl.Sub, "scope": cl.Scope,
		"exp": cl.Exp, "iat": cl.Iat, "iss": cl.Iss, "aud": cl.Aud, "jti": cl.Jti}
	if cl.ACR != "" {
		out["acr"], out["amr"], out["auth_time"] = cl.ACR, cl.AMR, cl.AuthTime
	}
	if cl.PINFL != "" {
		out["pinfl"] = cl.PINFL
	}
	if cl.Cnf != nil {
		out["cnf"] = cl.Cnf
	}
	httpjson.Write(w, http.StatusOK, out)
}

// handleRevoke is RFC 7009: a refresh token revokes its family, an access
// token its ID; unknown tokens and other clients' tokens answer 200 too.
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, v, tok, ok := p.tokenRequest(w, r, pathRevoke)
	if !ok {
		return
	}
	if hint := v.Get("token_type_hint"); hint != "" && hint != "access_token" && hint != "refresh_token" {
		p.writeOAuthError(w, r, oerr(errUnsupportedTokenType, "unknown token_type_hint"))
		return
	}
	if strings.HasPrefix(tok, refreshPrefix) {
		h := sha256.Sum256([]byte(tok))
		if rt, err := p.st.GetRefreshToken(ctx, h[:]); err == nil && rt.ClientID == c.ID {
			if err := p.st.RevokeRefreshFamily(ctx, rt.FamilyID, p.now()); err != nil {
				p.writeOAuthError(w, r, err)
				return
			}
			p.audit(ctx, "client:"+c.ID, "token.revoke", rt.FamilyID, nil)
		}
	} else if cl, err := p.verifyAccessToken(ctx, tok); err == nil && cl.ClientID == c.ID {
		p.revokeJTI(ctx, cl.Jti, cl.Exp)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

package idp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// redirectError is an error to send to the client's redirect URI.
type redirectError struct {
	oe  *oauthError
	req *authRequest
}

func (e *redirectError) Error() string { return e.oe.Error() }

// errorRedirect builds the client's redirect URI with an error.
func (p *Provider) errorRedirect(ar *authRequest, oe *oauthError) string {
	q := url.Values{"error": {oe.Code}, "iss": {p.cfg.Issuer}}
	if oe.Description != "" {
		q.Set("error_description", oe.Description)
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	return appendQuery(ar.RedirectURI, q)
}

func appendQuery(base string, q url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + q.Encode()
}

// handleAuthorize is the authorization endpoint.
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := params(r)
	if err != nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", err.Error()})
		return
	}
	clientID := v.Get("client_id")
	if ru := v.Get("request_uri"); ru != "" {
		if v, err = p.takePushed(ctx, ru, clientID); err != nil {
			p.showError(w, r, err)
			return
		}
	}
	c, err := p.client(ctx, clientID)
	if err != nil {
		p.showError(w, r, err)
		return
	}
	if c == nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.unknown_client", "unknown client_id"})
		return
	}
	ar, err := p.parseAuthRequest(v, c)
	if err != nil {
		p.authorizeFailed(w, r, err)
		return
	}
	next, err := p.proceed(ctx, w, r, c, ar)
	if err != nil {
		p.authorizeFailed(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

func (p *Provider) authorizeFailed(w http.ResponseWriter, r *http.Request, err error) {
	var re *redirectError
	if errors.As(err, &re) {
		p.m.authorize.WithLabelValues(re.oe.Code).Inc()
		http.Redirect(w, r, p.errorRedirect(re.req, re.oe), http.StatusFound)
		return
	}
	p.showError(w, r, err)
}

// proceed decides what follows a valid authorization request: the code
// (an existing session that satisfies it), the consent page, the login
// page, or an error for prompt=none.
func (p *Provider) proceed(ctx context.Context, w http.ResponseWriter, r *http.Request, c *Client, ar *authRequest) (string, error) {
	s, secret, err := p.currentSession(ctx, r)
	if err != nil {
		return "", err
	}
	if s != nil && !p.sessionSatisfies(s, ar) {
		s = nil
	}
	if s == nil {
		if ar.has("none") {
			return "", &redirectError{oe: oerr(errLoginRequired, "no session satisfies the request"), req: ar}
		}
		id := randomToken(32)
		lr := loginRequest{Auth: *ar, Browser: browserHash(browserID(w, r)), Expires: p.now().Add(p.cfg.LoginTTL)}
		if err := p.putJSON(ctx, hashKey("lr:", id), lr, p.cfg.LoginTTL); err != nil {
			return "", err
		}
		p.m.authorize.WithLabelValues("login").Inc()
		return pathLogin + "?request=" + id, nil
	}
	return p.afterLogin(ctx, w, r, c, ar, s, secret, "")
}

// sessionSatisfies reports whether a session may answer the request
// without a new login: prompt=login, max_age and acr_values (step-up).
func (p *Provider) sessionSatisfies(s *session, ar *authRequest) bool {
	if ar.has("login") {
		return false
	}
	if ar.MaxAge >= 0 && p.now().Sub(s.AuthTime) > time.Duration(ar.MaxAge)*time.Second {
		return false
	}
	if req := ar.requiredACR(); req != "" && acrRank(s.ACR) < acrRank(req) {
		return false
	}
	return true
}

// afterLogin asks for consent if the client needs it and the person has
// not given it, else issues the code. requestID is the pending login
// request to reuse for the consent page ("" to make one).
func (p *Provider) afterLogin(ctx context.Context, w http.ResponseWriter, r *http.Request, c *Client, ar *authRequest, s *session, secret, requestID string) (string, error) {
	if c.Consent {
		ok, err := p.hasConsent(ctx, s.Person.PINFL, c.ID, ar.Scopes)
		if err != nil {
			return "", err
		}
		if !ok || ar.has("consent") {
			if ar.has("none") {
				return "", &redirectError{oe: oerr(errConsentRequired, "consent is required"), req: ar}
			}
			if requestID == "" {
				requestID = randomToken(32)
			}
			lr := loginRequest{Auth: *ar, Browser: browserHash(browserID(w, r)), Expires: p.now().Add(p.cfg.LoginTTL),
				SessionSecretHash: hashKey("", secret)}
			if err := p.putJSON(ctx, hashKey("lr:", requestID), lr, p.cfg.LoginTTL); err != nil {
				return "", err
			}
			return pathConsent + "?request=" + requestID, nil
		}
	}
	if requestID != "" {
		_ = p.cache.Delete(ctx, hashKey("lr:", requestID))
	}
	return p.issueCode(ctx, ar, s, secret)
}

// issueCode stores a single-use code and returns the redirect to the
// client.
func (p *Provider) issueCode(ctx context.Context, ar *authRequest, s *session, secret string) (string, error) {
	scopes, err := p.allowedScopes(ctx, s.Person.PINFL, ar.Scopes)
	if err != nil {
		return "", err
	}
	code := randomToken(32)
	g := grant{ClientID: ar.ClientID, RedirectURI: ar.RedirectURI, CodeChallenge: ar.CodeChallenge, Nonce: ar.Nonce,
		SID: s.SID, Person: s.Person, Scopes: scopes, AuthTime: s.AuthTime.Unix(), ACR: s.ACR, AMR: s.AMR}
	if err := p.putJSON(ctx, hashKey("code:", code), g, p.cfg.CodeTTL); err != nil {
		return "", err
	}
	p.touchSession(ctx, secret, s, ar.ClientID)
	p.m.authorize.WithLabelValues("code").Inc()
	q := url.Values{"code": {code}, "iss": {p.cfg.Issuer}}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	return appendQuery(ar.RedirectURI, q), nil
}

// allowedScopes drops the privileged scopes the person does not hold.
func (p *Provider) allowedScopes(ctx context.Context, pinfl string, scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if slices.Contains(privilegedScopes, sc) {
			ok, err := p.mayReceive(ctx, pinfl, sc)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

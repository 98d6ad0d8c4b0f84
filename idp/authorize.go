package idp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/web"
)

const (
	maxFormBytes   = 64 << 10
	parURNPrefix   = "urn:ietf:params:oauth:request_uri:"
	parTTL         = 90 * time.Second
	maxParamLength = 2048
)

// authRequest is a validated authorization request.
type authRequest struct {
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	Scopes        []string `json:"scopes"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	CodeChallenge string   `json:"code_challenge"`
	ACRValues     []string `json:"acr_values,omitempty"`
	MaxAge        int      `json:"max_age"` // -1: none
	Prompt        []string `json:"prompt,omitempty"`
	LoginHint     string   `json:"login_hint,omitempty"`
}

// loginRequest is an authorization request waiting for a login or a
// consent, bound to the browser that started it.
type loginRequest struct {
	Auth    authRequest `json:"auth"`
	Browser string      `json:"browser"` // SHA-256 of the browser cookie
	Expires time.Time   `json:"expires"`
	// Set once the person logged in and only consent is missing.
	SessionSecretHash string `json:"session,omitempty"`
}

// redirectError is an error to send to the client's redirect URI.
type redirectError struct {
	oe  *oauthError
	req *authRequest
}

func (e *redirectError) Error() string { return e.oe.Error() }

// pageError is an error shown to the person, never redirected (unknown
// client, bad redirect URI, expired request).
type pageError struct {
	status int
	code   string
	key    string
	detail string
}

func (e *pageError) Error() string { return e.code + ": " + e.detail }

func (p *Provider) showError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
	case unavailable(err):
		p.log.WarnContext(r.Context(), "page request failed: a dependency is down", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		pe = &pageError{status: http.StatusServiceUnavailable, code: errTemporarilyUnavail, key: "error.server"}
	default:
		p.log.ErrorContext(r.Context(), "page request failed", "path", r.URL.Path, "err", err)
		pe = &pageError{status: http.StatusInternalServerError, code: errServerError, key: "error.server"}
	}
	p.pages.Render(w, r, web.ErrorPage{Code: pe.code, Message: pe.key, Detail: pe.detail}, pe.status)
}

// params reads the request parameters of GET (query) or POST (form);
// a parameter given twice is an error (RFC 6749 §3.1).
func params(r *http.Request) (url.Values, error) {
	var v url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		v = r.PostForm
	} else {
		var err error
		if v, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, err
		}
	}
	for k, vals := range v {
		if len(vals) > 1 {
			return nil, errors.New("parameter " + k + " repeated")
		}
		if len(vals[0]) > maxParamLength {
			return nil, errors.New("parameter " + k + " too long")
		}
	}
	return v, nil
}

// parseAuthRequest validates client and redirect URI first (failures are
// page errors), then the rest (failures go to the redirect URI).
func (p *Provider) parseAuthRequest(ctx context.Context, v url.Values, c *Client) (*authRequest, error) {
	ar := &authRequest{ClientID: c.ID, RedirectURI: v.Get("redirect_uri"), State: v.Get("state"), MaxAge: -1}
	if !c.has(GrantCode) {
		return nil, &pageError{http.StatusBadRequest, errUnauthorizedClient, "error.unknown_client", "the client may not use the authorization code flow"}
	}
	if ar.RedirectURI == "" && len(c.RedirectURIs) == 1 {
		ar.RedirectURI = c.RedirectURIs[0]
	}
	if !slices.Contains(c.RedirectURIs, ar.RedirectURI) {
		return nil, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_redirect_uri", "redirect_uri is not registered for this client"}
	}
	fail := func(code, desc string) (*authRequest, error) {
		return nil, &redirectError{oe: oerr(code, desc), req: ar}
	}
	if v.Get("request") != "" {
		return fail("request_not_supported", "request objects are not supported; use pushed authorization requests")
	}
	if rt := v.Get("response_type"); rt != "code" {
		if rt == "" {
			return fail(errInvalidRequest, "response_type is required")
		}
		return fail(errUnsupportedResponse, "only response_type=code is supported")
	}
	if rm := v.Get("response_mode"); rm != "" && rm != "query" {
		return fail(errInvalidRequest, "only response_mode=query is supported")
	}
	scopes := strings.Fields(v.Get("scope"))
	if len(scopes) == 0 {
		return fail(errInvalidScope, "scope is required")
	}
	for _, s := range scopes {
		if !c.allowsScope(s) {
			return fail(errInvalidScope, "scope "+s+" is not allowed for this client")
		}
	}
	ar.Scopes = dedupe(scopes)
	ch, method := v.Get("code_challenge"), v.Get("code_challenge_method")
	if ch == "" {
		return fail(errInvalidRequest, "PKCE is required: code_challenge with code_challenge_method=S256")
	}
	if method != "S256" {
		return fail(errInvalidRequest, "code_challenge_method must be S256")
	}
	if len(ch) != 43 || !isB64URL(ch) {
		return fail(errInvalidRequest, "code_challenge must be a base64url SHA-256 (43 characters)")
	}
	ar.CodeChallenge = ch
	ar.Nonce = v.Get("nonce")
	if slices.Contains(ar.Scopes, "openid") && len(ar.Nonce) > 512 {
		return fail(errInvalidRequest, "nonce too long")
	}
	if ma := v.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return fail(errInvalidRequest, "max_age must be a non-negative integer")
		}
		ar.MaxAge = n
	}
	ar.Prompt = strings.Fields(v.Get("prompt"))
	for _, pr := range ar.Prompt {
		switch pr {
		case "none", "login", "consent", "select_account":
		default:
			return fail(errInvalidRequest, "unknown prompt value "+pr)
		}
	}
	if slices.Contains(ar.Prompt, "none") && len(ar.Prompt) > 1 {
		return fail(errInvalidRequest, "prompt=none cannot be combined with other values")
	}
	if av := strings.Fields(v.Get("acr_values")); len(av) > 0 {
		for _, a := range av {
			if acrRank(a) > 0 {
				ar.ACRValues = append(ar.ACRValues, a)
			}
		}
		if len(ar.ACRValues) == 0 {
			return fail(errInvalidRequest, "no supported acr_values (low, substantial, high)")
		}
	}
	ar.LoginHint = v.Get("login_hint")
	return ar, nil
}

// requiredACR is the lowest level the request accepts ("" for none).
func (ar *authRequest) requiredACR() string {
	req := ""
	for _, a := range ar.ACRValues {
		if req == "" || acrRank(a) < acrRank(req) {
			req = a
		}
	}
	return req
}

func (ar *authRequest) has(prompt string) bool { return slices.Contains(ar.Prompt, prompt) }

func dedupe(s []string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

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
	ar, err := p.parseAuthRequest(ctx, v, c)
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

// handlePAR is the pushed authorization request endpoint (RFC 9126): the
// client authenticates and pushes the parameters; it gets a request_uri
// to send the browser with.
func (p *Provider) handlePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := params(r)
	if err != nil {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "malformed form").with(err))
		return
	}
	c, err := p.authenticateClient(ctx, r, v, pathPAR)
	if err != nil {
		p.writeOAuthError(w, r, err)
		return
	}
	if v.Get("request_uri") != "" {
		p.writeOAuthError(w, r, oerr(errInvalidRequest, "request_uri must not be pushed"))
		return
	}
	if _, err := p.parseAuthRequest(ctx, v, c); err != nil {
		var re *redirectError
		var pe *pageError
		switch {
		case errors.As(err, &re):
			p.writeOAuthError(w, r, re.oe)
		case errors.As(err, &pe):
			p.writeOAuthError(w, r, oerr(pe.code, pe.detail))
		default:
			p.writeOAuthError(w, r, err)
		}
		return
	}
	for _, k := range []string{"client_assertion", "client_assertion_type", "client_secret"} {
		v.Del(k)
	}
	v.Set("client_id", c.ID)
	id := randomToken(32)
	if err := p.cache.Set(ctx, hashKey("par:", id), []byte(v.Encode()), parTTL); err != nil {
		p.writeOAuthError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"request_uri": parURNPrefix + id, "expires_in": int(parTTL / time.Second)})
}

// takePushed redeems a request_uri (single use) for the parameters pushed.
func (p *Provider) takePushed(ctx context.Context, requestURI, clientID string) (url.Values, error) {
	id, ok := strings.CutPrefix(requestURI, parURNPrefix)
	if !ok || len(id) != 43 {
		return nil, &pageError{http.StatusBadRequest, errInvalidRequestURI, "error.bad_request", "request_uri is not one this provider issued"}
	}
	b, err := p.cache.Take(ctx, hashKey("par:", id))
	if err != nil {
		if isMiss(err) {
			return nil, &pageError{http.StatusBadRequest, errInvalidRequestURI, "error.request_expired", "request_uri is unknown, used or expired"}
		}
		return nil, err
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	if v.Get("client_id") != clientID {
		return nil, &pageError{http.StatusBadRequest, errInvalidRequestURI, "error.bad_request", "client_id does not match the pushed request"}
	}
	return v, nil
}

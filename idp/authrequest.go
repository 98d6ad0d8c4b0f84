package idp

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	maxFormBytes   = 64 << 10
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
// page errors), then the rest (failures go to the redirect URI), in the
// order of authParams.
func (p *Provider) parseAuthRequest(v url.Values, c *Client) (*authRequest, error) {
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
	for _, parse := range authParams {
		if oe := parse(ar, v, c); oe != nil {
			return nil, &redirectError{oe: oe, req: ar}
		}
	}
	ar.LoginHint = v.Get("login_hint")
	return ar, nil
}

// authParams read the parameters of an authorization request after its
// redirect URI, each failing with the error to redirect.
var authParams = []func(ar *authRequest, v url.Values, c *Client) *oauthError{
	parseResponseType, parseScopes, parsePKCE, parsePrompt, parseACRValues,
}

func parseResponseType(_ *authRequest, v url.Values, _ *Client) *oauthError {
	if v.Get("request") != "" {
		return oerr("request_not_supported", "request objects are not supported; use pushed authorization requests")
	}
	if rt := v.Get("response_type"); !slices.Contains(responseTypes, rt) {
		if rt == "" {
			return oerr(errInvalidRequest, "response_type is required")
		}
		return oerr(errUnsupportedResponse, "only response_type=code is supported")
	}
	if rm := v.Get("response_mode"); rm != "" && !slices.Contains(responseModes, rm) {
		return oerr(errInvalidRequest, "only response_mode=query is supported")
	}
	return nil
}

func parseScopes(ar *authRequest, v url.Values, c *Client) *oauthError {
	scopes := strings.Fields(v.Get("scope"))
	if len(scopes) == 0 {
		return oerr(errInvalidScope, "scope is required")
	}
	for _, s := range scopes {
		if !c.allowsScope(s) {
			return oerr(errInvalidScope, "scope "+s+" is not allowed for this client")
		}
	}
	ar.Scopes = dedupe(scopes)
	return nil
}

// parsePKCE reads the code challenge (S256 only, RFC 7636) and the nonce.
func parsePKCE(ar *authRequest, v url.Values, _ *Client) *oauthError {
	ch, method := v.Get("code_challenge"), v.Get("code_challenge_method")
	if ch == "" {
		return oerr(errInvalidRequest, "PKCE is required: code_challenge with code_challenge_method=S256")
	}
	if !slices.Contains(codeChallengeMethods, method) {
		return oerr(errInvalidRequest, "code_challenge_method must be S256")
	}
	if len(ch) != 43 || !isB64URL(ch) {
		return oerr(errInvalidRequest, "code_challenge must be a base64url SHA-256 (43 characters)")
	}
	ar.CodeChallenge = ch
	ar.Nonce = v.Get("nonce")
	if slices.Contains(ar.Scopes, "openid") && len(ar.Nonce) > 512 {
		return oerr(errInvalidRequest, "nonce too long")
	}
	return nil
}

// promptValues are the prompt values the provider acts on.
var promptValues = []string{"none", "login", "consent"}

// promptSelectAccount is accepted and changes nothing: a browser holds one
// session, and prompt=login lets the person use another certificate. It is
// not advertised (prompt_values_supported), as nothing is selected.
const promptSelectAccount = "select_account"

func parsePrompt(ar *authRequest, v url.Values, _ *Client) *oauthError {
	if ma := v.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return oerr(errInvalidRequest, "max_age must be a non-negative integer")
		}
		ar.MaxAge = n
	}
	ar.Prompt = strings.Fields(v.Get("prompt"))
	for _, pr := range ar.Prompt {
		if !slices.Contains(promptValues, pr) && pr != promptSelectAccount {
			return oerr(errInvalidRequest, "unknown prompt value "+pr)
		}
	}
	if slices.Contains(ar.Prompt, "none") && len(ar.Prompt) > 1 {
		return oerr(errInvalidRequest, "prompt=none cannot be combined with other values")
	}
	return nil
}

func parseACRValues(ar *authRequest, v url.Values, _ *Client) *oauthError {
	av := strings.Fields(v.Get("acr_values"))
	if len(av) == 0 {
		return nil
	}
	for _, a := range av {
		if acrRank(a) > 0 {
			ar.ACRValues = append(ar.ACRValues, a)
		}
	}
	if len(ar.ACRValues) == 0 {
		return oerr(errInvalidRequest, "no supported acr_values (low, substantial, high)")
	}
	return nil
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

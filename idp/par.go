package idp

import (
	"context"
	"errors"
	"github.com/yagona/yagona/pkg/httpjson"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	parURNPrefix = "urn:ietf:params:oauth:request_uri:"
	parTTL       = 90 * time.Second
)

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
	if _, err := p.parseAuthRequest(v, c); err != nil {
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
	httpjson.Write(w, http.StatusCreated, map[string]any{"request_uri": parURNPrefix + id, "expires_in": int(parTTL / time.Second)})
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

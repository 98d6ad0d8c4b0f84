package idp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/web"
)

// handleLogout is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0). GET shows a confirmation page unless id_token_hint proves the
// request comes from a client of this very session; POST carries the
// person's decision. post_logout_redirect_uri must be registered for the
// client the hint (or client_id) names.
func (p *Provider) handleLogout(w http.ResponseWriter, r *http.Request) {
	web.SetLang(w, r)
	ctx := r.Context()
	v, err := params(r)
	if err != nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", err.Error()})
		return
	}
	s, secret, err := p.currentSession(ctx, r)
	if err != nil {
		p.showError(w, r, err)
		return
	}
	lo, err := p.parseLogout(ctx, v)
	if err != nil {
		p.showError(w, r, err)
		return
	}
	confirmed := false
	if r.Method == http.MethodPost {
		if !p.checkCSRF(r, "logout", v.Get("csrf")) {
			p.showError(w, r, &pageError{http.StatusForbidden, errInvalidRequest, "error.csrf", ""})
			return
		}
		if v.Get("decision") != "logout" {
			p.pages.Render(w, r, pages.LoggedOutPage{}, http.StatusOK)
			return
		}
		confirmed = true
	} else if s != nil && lo.hintSID != "" && lo.hintSID == s.SID {
		confirmed = true
	}
	switch {
	case s == nil:
		p.finishLogout(w, r, lo.ret)
	case !confirmed:
		p.confirmLogout(w, r, lo)
	default:
		p.endSession(ctx, s, secret)
		setCookie(w, cookieSession, "", -1, http.SameSiteLaxMode)
		p.finishLogout(w, r, lo.ret)
	}
}

// logoutRequest is a checked logout request.
type logoutRequest struct {
	v        url.Values
	clientID string  // named by id_token_hint or client_id; "" for none
	client   *Client // its record
	hintSID  string  // the sid of id_token_hint
	state    string
	ret      string // where the browser goes after, with state; "" for the logged-out page
}

// parseLogout checks the hint, the client and the return URI.
func (p *Provider) parseLogout(ctx context.Context, v url.Values) (*logoutRequest, error) {
	lo := &logoutRequest{v: v, clientID: v.Get("client_id"), state: v.Get("state")}
	if hint := v.Get("id_token_hint"); hint != "" {
		aud, sid, err := p.parseIDTokenHint(ctx, hint)
		if err != nil {
			return nil, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", "id_token_hint is not an ID token this provider issued"}
		}
		if lo.clientID != "" && lo.clientID != aud {
			return nil, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", "client_id does not match id_token_hint"}
		}
		lo.clientID, lo.hintSID = aud, sid
	}
	if lo.clientID != "" {
		c, err := p.client(ctx, lo.clientID)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, &pageError{http.StatusBadRequest, errInvalidRequest, "error.unknown_client", ""}
		}
		lo.client = c
	}
	lo.ret = v.Get("post_logout_redirect_uri")
	if lo.ret != "" && (lo.client == nil || !slices.Contains(lo.client.PostLogoutRedirectURIs, lo.ret)) {
		return nil, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_redirect_uri", "post_logout_redirect_uri is not registered for the client"}
	}
	if lo.ret != "" && lo.state != "" {
		lo.ret = appendQuery(lo.ret, url.Values{"state": {lo.state}})
	}
	return lo, nil
}

// confirmLogout asks the person to confirm, posting the request back.
func (p *Provider) confirmLogout(w http.ResponseWriter, r *http.Request, lo *logoutRequest) {
	browserID(w, r)
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "post_logout_redirect_uri", "id_token_hint"} {
		if x := lo.v.Get(k); x != "" {
			hidden[k] = x
		}
	}
	if lo.clientID != "" {
		hidden["client_id"] = lo.clientID
	}
	name := ""
	if lo.client != nil {
		name = lo.client.Name
	}
	p.pages.Render(w, r, pages.LogoutPage{CSRF: p.csrf(r, "logout"), ClientName: name, State: lo.state, Hidden: hidden}, http.StatusOK)
}

func (p *Provider) finishLogout(w http.ResponseWriter, r *http.Request, ret string) {
	if ret != "" {
		http.Redirect(w, r, ret, http.StatusFound)
		return
	}
	p.pages.Render(w, r, pages.LoggedOutPage{}, http.StatusOK)
}

// parseIDTokenHint verifies an ID token we issued (expired is fine) and
// returns its audience and sid.
func (p *Provider) parseIDTokenHint(ctx context.Context, tok string) (aud, sid string, err error) {
	payload, err := p.verifyJWT(ctx, tok, "JWT")
	if err != nil {
		return "", "", err
	}
	var cl struct {
		Iss string `json:"iss"`
		Aud string `json:"aud"`
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &cl); err != nil || cl.Iss != p.cfg.Issuer || cl.Aud == "" {
		return "", "", errors.New("not an ID token of this provider")
	}
	return cl.Aud, cl.SID, nil
}

// endSession deletes the session, revokes its refresh tokens and tells
// every client it touched (back-channel logout).
func (p *Provider) endSession(ctx context.Context, s *session, secret string) {
	if err := p.cache.Delete(ctx, hashKey("sess:", secret)); err != nil {
		p.log.ErrorContext(ctx, "session delete failed", "err", err)
	}
	if _, err := p.st.RevokeSessionRefresh(ctx, s.SID, p.now()); err != nil {
		p.log.ErrorContext(ctx, "session refresh revocation failed", "err", err)
	}
	p.audit(ctx, "person:"+s.Person.PINFL, "logout", s.SID, map[string]any{"clients": s.Clients})
	go p.backchannelLogout(context.WithoutCancel(ctx), s)
}

// backchannelLogout posts a logout token to every client of the session
// with a back-channel URI, retrying a failed delivery twice.
func (p *Provider) backchannelLogout(ctx context.Context, s *session) {
	var wg sync.WaitGroup
	for _, id := range s.Clients {
		c, err := p.client(ctx, id)
		if err != nil || c == nil || c.BackchannelLogoutURI == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := p.now()
			tok, err := p.signJWT(ctx, typLogoutToken, map[string]any{"iss": p.cfg.Issuer, "aud": c.ID, "iat": now.Unix(),
				"exp": now.Add(2 * time.Minute).Unix(), "jti": randomToken(16), "sid": s.SID, "sub": p.subject(c, s.Person.PINFL),
				"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}})
			if err != nil {
				p.log.ErrorContext(ctx, "logout token not signed", "err", err)
				return
			}
			for attempt := range 3 {
				if attempt > 0 {
					time.Sleep(time.Duration(attempt) * time.Second)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := p.http.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
						p.m.backchannel.WithLabelValues("ok").Inc()
						return
					}
				}
				p.log.WarnContext(ctx, "back-channel logout failed", "client", c.ID, "attempt", attempt+1, "err", err)
			}
			p.m.backchannel.WithLabelValues("failed").Inc()
		}()
	}
	wg.Wait()
}

package idp

import (
	"context"
	"crypto/hmac"
	"net/http"
	"slices"

	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/store"
)

// handleConsentPage shows what the client asks for.
func (p *Provider) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	id, lr, c, ok := p.pageRequest(w, r)
	if !ok {
		return
	}
	if lr.SessionSecretHash == "" {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", ""})
		return
	}
	p.pages.Render(w, r, pages.ConsentPage{Request: id, ClientName: c.Name, CSRF: p.csrf(r, "consent:"+id), Scopes: lr.Auth.Scopes}, http.StatusOK)
}

// handleConsent records the person's decision.
func (p *Provider) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.bad_request", ""})
		return
	}
	id := r.PostForm.Get("request")
	if !p.checkCSRF(r, "consent:"+id, r.PostForm.Get("csrf")) {
		p.showError(w, r, &pageError{http.StatusForbidden, errInvalidRequest, "error.csrf", ""})
		return
	}
	lr, e := p.loadLogin(ctx, r, id)
	if e != nil {
		p.showError(w, r, loginPageError(e))
		return
	}
	s, secret, err := p.currentSession(ctx, r)
	if err != nil || s == nil || lr.SessionSecretHash == "" || !hmac.Equal([]byte(hashKey("", secret)), []byte(lr.SessionSecretHash)) {
		p.showError(w, r, &pageError{http.StatusForbidden, errInvalidRequest, "error.request_expired", "the session changed; start again from the service"})
		return
	}
	if err := p.cache.Delete(ctx, hashKey("lr:", id)); err != nil {
		p.showError(w, r, err)
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		http.Redirect(w, r, p.errorRedirect(&lr.Auth, oerr(errAccessDenied, "the person declined")), http.StatusFound)
		return
	}
	next, err := p.recordConsent(ctx, lr, s, secret)
	if err != nil {
		p.showError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// recordConsent stores the scopes the person allowed (with those allowed
// before) and issues the code.
func (p *Provider) recordConsent(ctx context.Context, lr *loginRequest, s *session, secret string) (string, error) {
	scopes := slices.Clone(lr.Auth.Scopes)
	if old, err := p.st.GetConsent(ctx, s.Person.PINFL, lr.Auth.ClientID); err == nil {
		scopes = dedupe(append(scopes, old.Scopes...))
	}
	c := store.Consent{Subject: s.Person.PINFL, ClientID: lr.Auth.ClientID, Scopes: scopes, GrantedAt: p.now()}
	if err := p.st.PutConsent(ctx, c); err != nil {
		return "", err
	}
	return p.issueCode(ctx, &lr.Auth, s, secret)
}

func (p *Provider) hasConsent(ctx context.Context, subject, clientID string, scopes []string) (bool, error) {
	c, err := p.st.GetConsent(ctx, subject, clientID)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

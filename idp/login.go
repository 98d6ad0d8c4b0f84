package idp

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/web"
)

// loadLogin returns the pending login request id names if it exists, has
// not expired and belongs to this browser.
func (p *Provider) loadLogin(ctx context.Context, r *http.Request, id string) (*loginRequest, *login.Error) {
	if len(id) != 43 || !isB64URL(id) {
		return nil, &login.Error{Status: http.StatusBadRequest, Code: login.CodeInvalidRequest, Detail: "request is not a login request id", Key: "error.bad_request"}
	}
	var lr loginRequest
	found, err := p.getJSON(ctx, hashKey("lr:", id), &lr)
	if err != nil {
		return nil, login.Unavailable()
	}
	if !found || !p.now().Before(lr.Expires) {
		return nil, &login.Error{Status: http.StatusBadRequest, Code: login.CodeRequestExpired, Key: "error.request_expired",
			Detail: "the login request is unknown or expired; start again from the service"}
	}
	b := existingBrowserID(r)
	if b == "" || !hmac.Equal([]byte(browserHash(b)), []byte(lr.Browser)) {
		return nil, &login.Error{Status: http.StatusForbidden, Code: login.CodeInvalidRequest, Key: "error.bad_request",
			Detail: "the login request belongs to another browser session"}
	}
	return &lr, nil
}

// loginPageError is the page shown for a refused login request (without
// the detail, which is for programs).
func loginPageError(e *login.Error) *pageError { return &pageError{e.Status, e.Code, e.Key, ""} }

// pageRequest reads the pending login request a page names (?request=)
// and its client; on failure it has shown the error page.
func (p *Provider) pageRequest(w http.ResponseWriter, r *http.Request) (string, *loginRequest, *Client, bool) {
	web.SetLang(w, r)
	ctx := r.Context()
	id := r.URL.Query().Get("request")
	lr, e := p.loadLogin(ctx, r, id)
	if e != nil {
		p.showError(w, r, loginPageError(e))
		return "", nil, nil, false
	}
	c, err := p.client(ctx, lr.Auth.ClientID)
	if err != nil || c == nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.unknown_client", ""})
		return "", nil, nil, false
	}
	return id, lr, c, true
}

// handleLoginPage shows the login page of a pending request, with every
// login method's offer.
func (p *Provider) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	id, _, c, ok := p.pageRequest(w, r)
	if !ok {
		return
	}
	pg := pages.LoginPage{Request: id, ClientName: c.Name, CSRF: p.csrf(r, id)}
	for _, bm := range p.methods {
		bm.m.Offer(&pg, id)
	}
	p.pages.Render(w, r, pg, http.StatusOK)
}

// completeLogin checks a method's proof and the level the request needs,
// opens the session, and returns where the browser goes next.
func (p *Provider) completeLogin(ctx context.Context, w http.ResponseWriter, r *http.Request, pl *pendingLogin, pf login.Proof, as login.Assurance) (string, *login.Error) {
	if pf.Leaf == nil {
		return "", &login.Error{Status: http.StatusBadRequest, Code: login.CodeInvalidRequest, Detail: "no certificate", Key: "error.login_failed"}
	}
	a, e := p.checkProof(ctx, pl.lr, pf, as)
	if e != nil {
		return "", e
	}
	c, err := p.client(ctx, pl.lr.Auth.ClientID)
	if err != nil || c == nil {
		return "", &login.Error{Status: http.StatusBadRequest, Code: login.CodeInvalidRequest, Detail: "the client is no longer registered", Key: "error.unknown_client"}
	}
	pr := p.personOf(ctx, a)
	start := time.Now()
	s, secret, err := p.startSession(ctx, w, a, pr)
	p.m.since(stepSession, start)
	if err != nil {
		return "", login.Unavailable()
	}
	p.audit(ctx, "person:"+pr.PINFL, "login", a.Serial, map[string]any{"client": c.ID, "method": pf.Method, "acr": a.ACR, "issuer": a.Issuer})
	start = time.Now()
	next, err := p.afterLogin(ctx, w, r, c, &pl.lr.Auth, s, secret, pl.id)
	p.m.since(stepCodeIssue, start)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			return p.errorRedirect(re.req, re.oe), nil
		}
		return "", login.Unavailable()
	}
	return next, nil
}

// checkProof asks the certificate checker about the proof's certificate,
// applies the method's assurance, and checks the level the request needs.
func (p *Provider) checkProof(ctx context.Context, lr *loginRequest, pf login.Proof, as login.Assurance) (*Authenticated, *login.Error) {
	start := time.Now()
	a, err := p.cfg.Certs.Check(ctx, pf.Leaf, pf.Extra, pf.Method, p.now())
	p.m.since(stepChainStatus, start)
	if err != nil {
		var ce *certError
		if errors.As(err, &ce) {
			p.log.InfoContext(ctx, "certificate login refused", "serial", pf.Leaf.SerialNumber.Text(16), "reason", err)
			return nil, &login.Error{Status: http.StatusForbidden, Code: login.CodeRefused, Detail: ce.Reason, Key: ce.Key}
		}
		p.log.ErrorContext(ctx, "certificate check failed", "err", err)
		return nil, login.Unavailable()
	}
	if as.MaxACR != "" {
		a.ACR = minACR(a.ACR, as.MaxACR)
	}
	if len(as.AMR) > 0 {
		a.AMR = dedupe(append(a.AMR, as.AMR...))
	}
	if req := lr.Auth.requiredACR(); req != "" && acrRank(a.ACR) < acrRank(req) {
		return nil, &login.Error{Status: http.StatusForbidden, Code: login.CodeACRNotMet, Key: "error.acr_not_met",
			Detail: fmt.Sprintf("this certificate gives level %s; the service requires %s", a.ACR, req)}
	}
	return a, nil
}

// personOf is the person a certificate names, with the registry's birth
// date when there is one.
func (p *Provider) personOf(ctx context.Context, a *Authenticated) person {
	pr := person{PINFL: a.Identity.PINFL, GivenName: a.Identity.GivenName, FamilyName: a.Identity.Surname, Name: a.Identity.CommonName,
		TIN: a.Identity.TIN, Organization: a.Identity.Organization, Position: a.Identity.Title}
	if pr.Name == "" {
		pr.Name = strings.TrimSpace(pr.GivenName + " " + pr.FamilyName)
	}
	if p.cfg.People != nil {
		if rec, err := p.cfg.People.GetPerson(ctx, pr.PINFL); err == nil && !rec.BirthDate.IsZero() {
			pr.Birthdate = rec.BirthDate.Format(time.DateOnly)
		}
	}
	return pr
}

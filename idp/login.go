package idp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/web"
)

// The challenge a client signs. ToSign is exactly:
//
//	yagona-login-v1
//	origin: <issuer>
//	request: <login request id>
//	nonce: <256-bit random, base64url>
//	issued-at: <RFC 3339 UTC>
const toSignHeader = "yagona-login-v1"

type challenge struct {
	ToSign  string    `json:"to_sign"`
	Browser string    `json:"browser"`
	Issued  time.Time `json:"issued"`
}

const (
	maxLoginBody  = 256 << 10
	maxSignature  = 128 << 10 // DER bytes
	loginJSONType = "application/json"
)

// loadLogin returns the pending login request id names if it exists, has
// not expired and belongs to this browser.
func (p *Provider) loadLogin(ctx context.Context, r *http.Request, id string) (*loginRequest, *apiError) {
	if len(id) != 43 || !isB64URL(id) {
		return nil, &apiError{http.StatusBadRequest, "invalid_request", "request is not a login request id", "error.bad_request"}
	}
	var lr loginRequest
	found, err := p.getJSON(ctx, hashKey("lr:", id), &lr)
	if err != nil {
		return nil, &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", "error.server"}
	}
	if !found || !p.now().Before(lr.Expires) {
		return nil, &apiError{http.StatusBadRequest, "request_expired", "the login request is unknown or expired; start again from the service", "error.request_expired"}
	}
	b := existingBrowserID(r)
	if b == "" || !hmac.Equal([]byte(browserHash(b)), []byte(lr.Browser)) {
		return nil, &apiError{http.StatusForbidden, "invalid_request", "the login request belongs to another browser session", "error.bad_request"}
	}
	return &lr, nil
}

// apiError is a JSON error of our own login endpoints.
type apiError struct {
	status int
	code   string
	desc   string
	key    string // web message key for pages
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// handleLoginPage shows the login page of a pending request.
func (p *Provider) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	web.SetLang(w, r)
	ctx := r.Context()
	id := r.URL.Query().Get("request")
	lr, ae := p.loadLogin(ctx, r, id)
	if ae != nil {
		p.showError(w, r, &pageError{ae.status, ae.code, ae.key, ""})
		return
	}
	c, err := p.client(ctx, lr.Auth.ClientID)
	if err != nil || c == nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.unknown_client", ""})
		return
	}
	pg := pages.LoginPage{Request: id, ClientName: c.Name, CSRF: p.csrf(r, id), AgentURL: p.cfg.AgentURL}
	if p.cfg.TLSLogin {
		pg.TLSLoginURL = pathLoginTLS + "?request=" + id
	}
	p.pages.Render(w, r, pg, http.StatusOK)
}

// handleChallenge issues a fresh challenge for a pending login request.
func (p *Provider) handleChallenge(w http.ResponseWriter, r *http.Request) {
	defer p.m.since(stepChallenge, time.Now())
	ctx := r.Context()
	if limited := p.limited(ctx, r, ""); limited {
		writeAPIError(w, &apiError{http.StatusTooManyRequests, "rate_limited", "too many failed attempts; wait a minute", "error.rate_limited"})
		return
	}
	var in struct {
		Request string `json:"request"`
	}
	if ae := decodeJSON(r, &in, 4<<10); ae != nil {
		writeAPIError(w, ae)
		return
	}
	lr, ae := p.loadLogin(ctx, r, in.Request)
	if ae != nil {
		p.fail(ctx, r, "")
		writeAPIError(w, ae)
		return
	}
	now := p.now().UTC().Truncate(time.Second)
	toSign := strings.Join([]string{toSignHeader, "origin: " + p.cfg.Issuer, "request: " + in.Request,
		"nonce: " + randomToken(32), "issued-at: " + now.Format(time.RFC3339)}, "\n")
	ch := challenge{ToSign: toSign, Browser: lr.Browser, Issued: now}
	if err := p.putJSON(ctx, hashKey("ch:", in.Request), ch, p.cfg.ChallengeTTL); err != nil {
		writeAPIError(w, &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", ""})
		return
	}
	p.m.login.WithLabelValues("challenge").Inc()
	writeJSON(w, http.StatusOK, map[string]any{"to_sign": toSign, "expires_in": int(p.cfg.ChallengeTTL / time.Second)})
}

// handleLoginCertificate checks a CMS signature over the challenge and
// logs the person in.
func (p *Provider) handleLoginCertificate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if p.limited(ctx, r, "") {
		writeAPIError(w, &apiError{http.StatusTooManyRequests, "rate_limited", "too many failed attempts; wait a minute", "error.rate_limited"})
		return
	}
	var in struct {
		Request   string `json:"request"`
		Signature string `json:"signature"`
	}
	if ae := decodeJSON(r, &in, maxLoginBody); ae != nil {
		writeAPIError(w, ae)
		return
	}
	next, ae := p.loginCMS(ctx, w, r, in.Request, in.Signature)
	if ae != nil {
		p.fail(ctx, r, p.loginClient(ctx, in.Request))
		p.m.login.WithLabelValues("failed").Inc()
		writeAPIError(w, ae)
		return
	}
	p.m.login.WithLabelValues("ok").Inc()
	writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

func (p *Provider) loginCMS(ctx context.Context, w http.ResponseWriter, r *http.Request, id, sig string) (string, *apiError) {
	lr, ae := p.loadLogin(ctx, r, id)
	if ae != nil {
		return "", ae
	}
	if p.limited(ctx, r, lr.Auth.ClientID) {
		return "", &apiError{http.StatusTooManyRequests, "rate_limited", "too many failed logins for this service; wait a minute", "error.rate_limited"}
	}
	var ch challenge
	found, err := p.takeJSON(ctx, hashKey("ch:", id), &ch)
	if err != nil {
		return "", &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", ""}
	}
	if !found {
		return "", &apiError{http.StatusBadRequest, "challenge_expired", "no live challenge for this request: it expired or was used; ask for a new one", "error.request_expired"}
	}
	if ch.Browser != lr.Browser {
		return "", &apiError{http.StatusForbidden, "invalid_request", "the challenge belongs to another browser session", "error.bad_request"}
	}
	if age := p.now().Sub(ch.Issued); age > p.cfg.ChallengeTTL || age < -time.Minute {
		return "", &apiError{http.StatusBadRequest, "challenge_expired", "the challenge expired; ask for a new one", "error.request_expired"}
	}
	start := time.Now()
	signer, certs, ae := verifyChallenge(sig, ch.ToSign)
	p.m.since(stepCMSVerify, start)
	if ae != nil {
		return "", ae
	}
	return p.completeLogin(ctx, w, r, id, lr, signer, certs, MethodCMS)
}

// verifyChallenge checks that sig is a CMS signature by one signer over
// exactly toSign (attached, or detached over it), and returns the signer's
// certificate and the certificates the signature carries.
func verifyChallenge(sig, toSign string) (*x509.Certificate, []*x509.Certificate, *apiError) {
	der, err := decodeSignature(sig)
	if err != nil {
		return nil, nil, &apiError{http.StatusBadRequest, "invalid_signature", "signature must be base64 DER CMS SignedData: " + err.Error(), "error.login_failed"}
	}
	signed, err := cms.Verify(der, nil)
	if err != nil {
		if s2, err2 := cms.Verify(der, []byte(toSign)); err2 == nil {
			signed, err = s2, nil
		}
	}
	if err != nil {
		return nil, nil, &apiError{http.StatusBadRequest, "invalid_signature", cmsReason(err), "error.login_failed"}
	}
	if !bytes.Equal(signed.Content, []byte(toSign)) {
		return nil, nil, &apiError{http.StatusBadRequest, "invalid_signature", "the signed content is not the challenge", "error.login_failed"}
	}
	if len(signed.Signers) != 1 {
		return nil, nil, &apiError{http.StatusBadRequest, "invalid_signature", "exactly one signer is expected", "error.login_failed"}
	}
	return signed.Signers[0].Certificate, signed.Certificates, nil
}

func cmsReason(err error) string {
	switch {
	case errors.Is(err, cms.ErrSignature):
		return "the signature does not verify"
	case errors.Is(err, cms.ErrUnsupported):
		return "the signature uses an unsupported algorithm"
	default:
		return "the signature is not valid DER CMS SignedData"
	}
}

// decodeSignature accepts standard or URL-safe base64, padded or not, and
// a PEM "CMS"/"PKCS7" block.
func decodeSignature(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		b, rest := pem.Decode([]byte(s))
		if b == nil || len(bytes.TrimSpace(rest)) != 0 {
			return nil, errors.New("bad PEM")
		}
		return b.Bytes, nil
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, s)
	if len(s) > base64.StdEncoding.EncodedLen(maxSignature) {
		return nil, errors.New("too large")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// completeLogin checks the certificate, the level the request needs, and
// opens the session; it returns where the browser goes next.
func (p *Provider) completeLogin(ctx context.Context, w http.ResponseWriter, r *http.Request, id string, lr *loginRequest, leaf *x509.Certificate, extra []*x509.Certificate, method string) (string, *apiError) {
	if leaf == nil {
		return "", &apiError{http.StatusBadRequest, "invalid_signature", "no signer certificate", "error.login_failed"}
	}
	start := time.Now()
	a, err := p.cfg.Certs.Check(ctx, leaf, extra, method, p.now())
	p.m.since(stepChainStatus, start)
	if err != nil {
		var ce *certError
		if errors.As(err, &ce) {
			p.log.InfoContext(ctx, "certificate login refused", "serial", leaf.SerialNumber.Text(16), "reason", err)
			return "", &apiError{http.StatusForbidden, "certificate_refused", ce.Reason, ce.Key}
		}
		p.log.ErrorContext(ctx, "certificate check failed", "err", err)
		return "", &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", "error.server"}
	}
	if req := lr.Auth.requiredACR(); req != "" && acrRank(a.ACR) < acrRank(req) {
		return "", &apiError{http.StatusForbidden, "acr_not_met", fmt.Sprintf("this certificate gives level %s; the service requires %s", a.ACR, req), "error.acr_not_met"}
	}
	c, err := p.client(ctx, lr.Auth.ClientID)
	if err != nil || c == nil {
		return "", &apiError{http.StatusBadRequest, errInvalidRequest, "the client is no longer registered", "error.unknown_client"}
	}
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
	start = time.Now()
	s, secret, err := p.startSession(ctx, w, a, pr)
	p.m.since(stepSession, start)
	if err != nil {
		return "", &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", "error.server"}
	}
	p.audit(ctx, "person:"+pr.PINFL, "login", a.Serial, map[string]any{"client": c.ID, "method": method, "acr": a.ACR, "issuer": a.Issuer})
	start = time.Now()
	next, err := p.afterLogin(ctx, w, r, c, &lr.Auth, s, secret, id)
	p.m.since(stepCodeIssue, start)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			return p.errorRedirect(re.req, re.oe), nil
		}
		return "", &apiError{http.StatusServiceUnavailable, errTemporarilyUnavail, "try again", "error.server"}
	}
	return next, nil
}

// loginClient is the client of a pending login request, for counting
// failures against it ("" if unknown).
func (p *Provider) loginClient(ctx context.Context, id string) string {
	if len(id) != 43 {
		return ""
	}
	var lr loginRequest
	if found, err := p.getJSON(ctx, hashKey("lr:", id), &lr); err != nil || !found {
		return ""
	}
	return lr.Auth.ClientID
}

// handleLoginTLS logs in with the TLS client certificate of the
// connection (or, from a trusted proxy, the forwarded one).
func (p *Provider) handleLoginTLS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !p.cfg.TLSLogin {
		http.NotFound(w, r)
		return
	}
	if p.limited(ctx, r, "") {
		p.showError(w, r, &pageError{http.StatusTooManyRequests, "rate_limited", "error.rate_limited", ""})
		return
	}
	id := r.URL.Query().Get("request")
	lr, ae := p.loadLogin(ctx, r, id)
	if ae != nil {
		p.showError(w, r, &pageError{ae.status, ae.code, ae.key, ""})
		return
	}
	leaf, extra, method, err := p.clientCertificate(r)
	if err != nil || leaf == nil {
		p.fail(ctx, r, lr.Auth.ClientID)
		detail := "the browser sent no client certificate"
		if err != nil {
			detail = err.Error()
		}
		p.showError(w, r, &pageError{http.StatusBadRequest, "no_certificate", "error.login_failed", detail})
		return
	}
	next, ae := p.completeLogin(ctx, w, r, id, lr, leaf, extra, method)
	if ae != nil {
		p.fail(ctx, r, lr.Auth.ClientID)
		p.m.login.WithLabelValues("failed").Inc()
		p.showError(w, r, &pageError{ae.status, ae.code, ae.key, ae.desc})
		return
	}
	p.m.login.WithLabelValues("ok").Inc()
	http.Redirect(w, r, next, http.StatusFound)
}

// clientCertificate returns the certificate the client presented: on the
// TLS connection, or in the forwarded header when the peer is a trusted
// proxy.
func (p *Provider) clientCertificate(r *http.Request) (*x509.Certificate, []*x509.Certificate, string, error) {
	if p.cfg.ForwardedCertHeader != "" && p.fromTrustedProxy(r) {
		if v := r.Header.Get(p.cfg.ForwardedCertHeader); v != "" {
			raw, err := url.QueryUnescape(v)
			if err != nil {
				return nil, nil, "", errors.New("malformed forwarded certificate")
			}
			b, _ := pem.Decode([]byte(raw))
			if b == nil || b.Type != "CERTIFICATE" {
				return nil, nil, "", errors.New("malformed forwarded certificate")
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, "", errors.New("malformed forwarded certificate")
			}
			return c, nil, MethodForwarded, nil
		}
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil, "", nil
	}
	return r.TLS.PeerCertificates[0], r.TLS.PeerCertificates[1:], MethodTLS, nil
}

func (p *Provider) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, pr := range p.cfg.TrustedProxies {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

// source is the client's address: the peer, or the last address a trusted
// proxy appended to X-Forwarded-For.
func (p *Provider) source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if p.fromTrustedProxy(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.String()
			}
		}
	}
	return host
}

// limited reports whether the source (and the client, if given) has used
// up its failures this minute.
func (p *Provider) limited(ctx context.Context, r *http.Request, clientID string) bool {
	keys := []string{"fail:ip:" + p.source(r)}
	if clientID != "" {
		keys = append(keys, "fail:client:"+clientID)
	}
	for _, k := range keys {
		b, err := p.cache.Get(ctx, k)
		if err != nil {
			continue
		}
		if n, err := strconv.Atoi(string(b)); err == nil && n >= p.cfg.FailuresPerMinute {
			return true
		}
	}
	return false
}

// fail counts a failure against the source and client.
func (p *Provider) fail(ctx context.Context, r *http.Request, clientID string) {
	_, _ = p.cache.Incr(ctx, "fail:ip:"+p.source(r), time.Minute)
	if clientID != "" {
		_, _ = p.cache.Incr(ctx, "fail:client:"+clientID, time.Minute)
	}
}

// decodeJSON reads a JSON object of at most limit bytes, with no unknown
// fields and nothing after it.
func decodeJSON(r *http.Request, v any, limit int64) *apiError {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != loginJSONType {
		return &apiError{http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json", "error.bad_request"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return &apiError{http.StatusBadRequest, "invalid_request", "cannot read the body", "error.bad_request"}
	}
	if int64(len(body)) > limit {
		return &apiError{http.StatusRequestEntityTooLarge, "invalid_request", "body too large", "error.bad_request"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{http.StatusBadRequest, "invalid_request", "malformed JSON: " + err.Error(), "error.bad_request"}
	}
	if dec.More() {
		return &apiError{http.StatusBadRequest, "invalid_request", "trailing data after the JSON object", "error.bad_request"}
	}
	return nil
}

// csrf is the form token of a page: bound to the browser and the request.
func (p *Provider) csrf(r *http.Request, purpose string) string {
	return web.CSRF{Key: p.cfg.SubjectSecret}.TokenFor(existingBrowserID(r), purpose)
}

func (p *Provider) checkCSRF(r *http.Request, purpose, token string) bool {
	return web.CSRF{Key: p.cfg.SubjectSecret}.CheckFor(existingBrowserID(r), purpose, token)
}

// handleConsentPage shows what the client asks for.
func (p *Provider) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	web.SetLang(w, r)
	ctx := r.Context()
	id := r.URL.Query().Get("request")
	lr, ae := p.loadLogin(ctx, r, id)
	if ae == nil && lr.SessionSecretHash == "" {
		ae = &apiError{http.StatusBadRequest, errInvalidRequest, "not waiting for consent", "error.bad_request"}
	}
	if ae != nil {
		p.showError(w, r, &pageError{ae.status, ae.code, ae.key, ""})
		return
	}
	c, err := p.client(ctx, lr.Auth.ClientID)
	if err != nil || c == nil {
		p.showError(w, r, &pageError{http.StatusBadRequest, errInvalidRequest, "error.unknown_client", ""})
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
	lr, ae := p.loadLogin(ctx, r, id)
	if ae != nil {
		p.showError(w, r, &pageError{ae.status, ae.code, ae.key, ""})
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
	scopes := slices.Clone(lr.Auth.Scopes)
	if old, err := p.st.GetConsent(ctx, s.Person.PINFL, lr.Auth.ClientID); err == nil {
		scopes = dedupe(append(scopes, old.Scopes...))
	}
	if err := p.st.PutConsent(ctx, storeConsent(s.Person.PINFL, lr.Auth.ClientID, scopes, p.now())); err != nil {
		p.showError(w, r, err)
		return
	}
	next, err := p.issueCode(ctx, &lr.Auth, s, secret)
	if err != nil {
		p.showError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
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

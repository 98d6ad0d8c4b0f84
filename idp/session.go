package idp

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"net/http"
	"slices"
	"time"
)

// Cookies. The __Host- prefix pins them to this origin, path / and Secure.
const (
	cookieSession = "__Host-yagona_session"
	cookieBrowser = "__Host-yagona_browser"
)

// person is what the provider knows of a logged-in person, from the
// certificate (and the registry for the birth date).
type person struct {
	PINFL        string `json:"pinfl"`
	GivenName    string `json:"given_name,omitempty"`
	FamilyName   string `json:"family_name,omitempty"`
	Name         string `json:"name,omitempty"`
	Birthdate    string `json:"birthdate,omitempty"`
	TIN          string `json:"tin,omitempty"`
	Organization string `json:"organization,omitempty"`
	Position     string `json:"position,omitempty"`
}

// session is a browser's login at the provider.
type session struct {
	SID        string    `json:"sid"` // public session id (sid claim, refresh families)
	Person     person    `json:"person"`
	AuthTime   time.Time `json:"auth_time"`
	ACR        string    `json:"acr"`
	AMR        []string  `json:"amr"`
	CertSerial string    `json:"cert_serial"`
	CertIssuer string    `json:"cert_issuer"`
	Clients    []string  `json:"clients,omitempty"` // clients given a code, for back-channel logout
	Expires    time.Time `json:"expires"`
}

func thumbprint(c *x509.Certificate) []byte {
	h := sha256.Sum256(c.Raw)
	return h[:]
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration, sameSite http.SameSite) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: sameSite}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// browserID returns the browser-binding cookie, setting a new one if it
// is absent. Login requests and challenges are bound to it.
func browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieBrowser); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := randomToken(32)
	setCookie(w, cookieBrowser, v, 0, http.SameSiteLaxMode)
	return v
}

func existingBrowserID(r *http.Request) string {
	if c, err := r.Cookie(cookieBrowser); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	return ""
}

func browserHash(id string) string {
	if id == "" {
		return ""
	}
	return hashKey("", id)
}

// currentSession returns the browser's live session, or nil.
func (p *Provider) currentSession(ctx context.Context, r *http.Request) (*session, string, error) {
	c, err := r.Cookie(cookieSession)
	if err != nil || len(c.Value) != 43 {
		return nil, "", nil
	}
	var s session
	found, err := p.getJSON(ctx, hashKey("sess:", c.Value), &s)
	if err != nil || !found {
		return nil, "", err
	}
	if !p.now().Before(s.Expires) {
		return nil, "", nil
	}
	return &s, c.Value, nil
}

// startSession opens a session for a person just authenticated and sets
// its cookie.
func (p *Provider) startSession(ctx context.Context, w http.ResponseWriter, a *Authenticated, pr person) (*session, string, error) {
	now := p.now()
	s := &session{SID: randomToken(16), Person: pr, AuthTime: now.Truncate(time.Second), ACR: a.ACR, AMR: a.AMR,
		CertSerial: a.Serial, CertIssuer: a.Issuer, Expires: now.Add(p.cfg.SessionTTL)}
	secret := randomToken(32)
	if err := p.putJSON(ctx, hashKey("sess:", secret), s, p.cfg.SessionTTL); err != nil {
		return nil, "", err
	}
	setCookie(w, cookieSession, secret, p.cfg.SessionTTL, http.SameSiteLaxMode)
	return s, secret, nil
}

// touchSession records that client got a code in the session, for
// back-channel logout.
func (p *Provider) touchSession(ctx context.Context, secret string, s *session, clientID string) {
	if secret == "" || slices.Contains(s.Clients, clientID) {
		return
	}
	s.Clients = append(s.Clients, clientID)
	ttl := s.Expires.Sub(p.now())
	if ttl <= 0 {
		return
	}
	if err := p.putJSON(ctx, hashKey("sess:", secret), s, ttl); err != nil {
		p.log.WarnContext(ctx, "session update failed", "err", err)
	}
}

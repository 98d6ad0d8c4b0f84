// Package cms is the CMS challenge login method: the provider issues a
// login statement (pkg/statement) naming itself, the service, the login
// page's origin, the login request, a fresh nonce and its lifetime; the
// person's signer (the local signing agent, the CLI, OpenSSL) signs it as
// CMS SignedData (RFC 5652) with the key of their authentication
// certificate, and the provider checks that the signed content is exactly
// this login's statement, the signature, then the certificate
// (docs/login.md).
//
// Steps: POST /login/challenge (begin) answers {"to_sign", "expires_in"};
// POST /login/certificate (finish) takes {"request", "signature"} and
// answers {"redirect"}. Errors are the login API's JSON errors.
package cms

import (
	"net/url"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/pages"
)

// Name is the method's name, and the name of its proofs.
const Name = "cms"

// Paths of the method's steps.
const (
	PathChallenge   = "/login/challenge"
	PathCertificate = "/login/certificate"
)

// Config configures the method.
type Config struct {
	// AgentURL is the base URL of the local signing agent the login page
	// talks to, e.g. "http://127.0.0.1:8765"; empty: none.
	AgentURL string
	// ChallengeTTL is how long a challenge may be answered; 0 means 120 s.
	ChallengeTTL time.Duration
}

// Method is the CMS challenge login.
type Method struct {
	cfg Config
}

// New returns the method.
func New(cfg Config) *Method {
	if cfg.ChallengeTTL <= 0 {
		cfg.ChallengeTTL = 120 * time.Second
	}
	return &Method{cfg: cfg}
}

// Name implements login.Method.
func (m *Method) Name() string { return Name }

// Assurance implements login.Method: the certificate's policy alone sets
// the level.
func (m *Method) Assurance() login.Assurance { return login.Assurance{} }

// Routes implements login.Method.
func (m *Method) Routes(h login.Host) []login.Route {
	s := &steps{h: h, ttl: m.cfg.ChallengeTTL}
	return []login.Route{
		{Pattern: "POST " + PathChallenge, Handler: s.begin},
		{Pattern: "POST " + PathCertificate, Handler: s.finish},
	}
}

// Offer implements login.Method: the page's script asks the agent for a
// signature.
func (m *Method) Offer(pg *pages.LoginPage, _ string) { pg.AgentURL = m.cfg.AgentURL }

// Origins implements login.Method: the agent's origin.
func (m *Method) Origins() []string {
	u, err := url.Parse(m.cfg.AgentURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

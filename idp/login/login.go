// Package login is the seam between the OpenID provider (package idp) and
// the ways a person proves who they are: each login method is a Method in
// a package of its own (idp/login/cms, the CMS challenge; idp/login/tlscert,
// the TLS client certificate), and the provider is, to a method, the Host.
//
// A method owns its steps (HTTP handlers: a begin step that issues what
// the person must prove, such as a challenge, and a finish step that
// checks the proof), its part of the login page, and its configuration
// (the Config of its package, given to its constructor). The provider
// owns everything around them: the pending login request and the browser
// it is bound to, the certificate check (chain, status, purpose and
// policy), the level of assurance, the session, consent and the code,
// failure counting and metrics.
//
// A method package imports this package, never package idp and never
// another method: adding a method is a new package and one line in the
// provider's list of methods (idp/methods.go), and touches no other
// method. docs/login.md walks through adding one.
package login

import (
	"context"
	"crypto/x509"
	"net/http"
	"time"

	"github.com/yagona/yagona/idp/pages"
)

// Method is one way of logging in.
type Method interface {
	// Name names the method ("cms", "tls"); it is unique among a
	// provider's methods.
	Name() string
	// Assurance is what a login by the method can be worth at most.
	Assurance() Assurance
	// Routes are the method's steps, begin steps first and the finish step
	// last. h is the provider as this method sees it; Routes is called
	// once, when the provider is built.
	Routes(h Host) []Route
	// Offer fills in the method's part of the login page of the pending
	// login request whose id is request.
	Offer(pg *pages.LoginPage, request string)
	// Origins are the origins the login page's script talks to for this
	// method (the local signing agent), allowed by the page's
	// Content-Security-Policy; nil for none.
	Origins() []string
}

// Assurance is the most a login by a method can be worth. The certificate
// the person proved to hold sets the level (its policy), the provider's
// configuration may cap it per proof (Proof.Method), and a method's own
// Assurance caps it further and adds to its amr.
type Assurance struct {
	// MaxACR is the highest level of assurance (low, substantial, high) a
	// login by the method reaches; empty: the method adds no cap.
	MaxACR string
	// AMR are RFC 8176 authentication method references every login by
	// the method adds to the certificate policy's; nil: none.
	AMR []string
}

// Route is one step of a method: an HTTP handler and its pattern.
type Route struct {
	// Pattern is a net/http pattern with its method, e.g.
	// "POST /login/challenge".
	Pattern string
	// Page is set when the step answers with an HTML page (an error page,
	// a redirect): it is then served with the pages' security headers.
	// Otherwise the step is a JSON endpoint. Both get the cross-origin
	// protection of the provider's pages.
	Page    bool
	Handler http.HandlerFunc
}

// Host is the provider as a login method sees it. Its methods are safe
// for concurrent use.
type Host interface {
	// Issuer is the provider's origin (https://host[:port]).
	Issuer() string
	// Now is the provider's clock.
	Now() time.Time
	// Request returns the pending login request id names, if it exists,
	// has not expired and belongs to r's browser.
	Request(ctx context.Context, r *http.Request, id string) (Request, *Error)
	// Put keeps v (as JSON) for ttl under kind and the SHA-256 of secret:
	// a method's ephemeral state, such as a challenge.
	Put(ctx context.Context, kind, secret string, v any, ttl time.Duration) error
	// Take removes what Put kept under kind and secret and reads it into
	// v; found is false when there is nothing (expired, or taken).
	Take(ctx context.Context, kind, secret string, v any) (found bool, err error)
	// Complete checks the proof (the certificate: chain, status, purpose,
	// policy, and the level the request needs), opens the session and
	// returns where the browser goes next: the consent page or the
	// service's redirect URI with the code (or an error for the service).
	Complete(ctx context.Context, w http.ResponseWriter, r *http.Request, req Request, p Proof) (next string, err *Error)
	// Limited reports whether r's source address (and the service
	// clientID, if not empty) has used up its failed attempts for now.
	Limited(ctx context.Context, r *http.Request, clientID string) bool
	// Fail counts a failed attempt against r's source address and, when
	// requestID names a pending login request, against its service.
	Fail(ctx context.Context, r *http.Request, requestID string)
	// Source is r's source address: the peer, or the address a trusted
	// proxy forwarded.
	Source(r *http.Request) string
	// TrustedProxy reports whether r comes from a proxy whose forwarded
	// headers are believed.
	TrustedProxy(r *http.Request) bool
	// Observe records how long a login step took since start
	// (yagona_login_step_seconds{step}).
	Observe(step string, start time.Time)
	// Count counts a login outcome: "challenge", "ok" or "failed"
	// (yagona_idp_login_total{step}).
	Count(outcome string)
	// ShowError answers with the error page for e (its Key, and its
	// Detail when not empty).
	ShowError(w http.ResponseWriter, r *http.Request, e *Error)
}

// Request is a pending login request: an authorization request waiting
// for the person to log in, bound to the browser that started it.
type Request interface {
	// ID is the request's id, as the login page got it.
	ID() string
	// ClientID is the service the person is logging in to.
	ClientID() string
	// ClientName is that service's registered name (its client id when
	// it has none), as the person knows it.
	ClientName() string
	// Browser identifies the browser the request is bound to (a hash of
	// its cookie): state a method keeps for the request must be bound to
	// it too.
	Browser() string
}

// Proof is what a method proved: the person holds the key of a
// certificate.
type Proof struct {
	// Method names the kind of proof ("cms", "tls", "forwarded"): the key
	// of the provider's level cap and the method the audit trail records.
	// Usually the method's Name; a method may prove in more than one way.
	Method string
	Leaf   *x509.Certificate
	// Extra are untrusted intermediates that came with the proof.
	Extra []*x509.Certificate
}

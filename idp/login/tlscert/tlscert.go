// Package tlscert is the TLS client certificate login method: the person's
// browser presents their authentication certificate in the TLS handshake
// (the listener asks for one but does not require it), or a reverse proxy
// that terminated TLS forwards it in a header (docs/login.md).
//
// One step, GET /login/tls?request=<id>: the certificate of the
// connection is checked and the browser is sent on; a refusal is an error
// page. A certificate the handshake proved is a "tls" proof; a forwarded
// one, believed only from a trusted proxy, is a "forwarded" proof, which
// the provider's configuration usually caps (idp.method_cap.forwarded).
package tlscert

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/pages"
)

// Names of the method and of its proofs.
const (
	Name      = "tls"       // a certificate on our TLS listener
	Forwarded = "forwarded" // a certificate a trusted proxy forwarded
)

// Path is the method's one step.
const Path = "/login/tls"

// Config configures the method.
type Config struct {
	// ForwardedHeader is the header a trusted proxy puts the client
	// certificate in (PEM, URL-escaped, as nginx's
	// $ssl_client_escaped_cert); empty: forwarded certificates are not
	// read.
	ForwardedHeader string
}

// Method is the TLS client certificate login.
type Method struct {
	cfg Config
}

// New returns the method.
func New(cfg Config) *Method { return &Method{cfg: cfg} }

// Name implements login.Method.
func (m *Method) Name() string { return Name }

// Assurance implements login.Method: the certificate's policy (and the
// provider's cap on forwarded proofs) sets the level.
func (m *Method) Assurance() login.Assurance { return login.Assurance{} }

// Routes implements login.Method.
func (m *Method) Routes(h login.Host) []login.Route {
	return []login.Route{{Pattern: "GET " + Path, Page: true, Handler: func(w http.ResponseWriter, r *http.Request) { m.finish(h, w, r) }}}
}

// Offer implements login.Method: the page links to the step.
func (m *Method) Offer(pg *pages.LoginPage, request string) {
	pg.TLSLoginURL = Path + "?request=" + request
}

// Origins implements login.Method: none.
func (m *Method) Origins() []string { return nil }

// finish logs in with the client certificate of the request.
func (m *Method) finish(h login.Host, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if h.Limited(ctx, r, "") {
		h.ShowError(w, r, &login.Error{Status: http.StatusTooManyRequests, Code: login.CodeRateLimited, Key: "error.rate_limited"})
		return
	}
	id := r.URL.Query().Get("request")
	req, e := h.Request(ctx, r, id)
	if e != nil {
		h.ShowError(w, r, &login.Error{Status: e.Status, Code: e.Code, Key: e.Key})
		return
	}
	p, err := m.certificate(h, r)
	if err != nil || p.Leaf == nil {
		h.Fail(ctx, r, id)
		detail := "the browser sent no client certificate"
		if err != nil {
			detail = err.Error()
		}
		h.ShowError(w, r, &login.Error{Status: http.StatusBadRequest, Code: "no_certificate", Key: "error.login_failed", Detail: detail})
		return
	}
	next, e := h.Complete(ctx, w, r, req, p)
	if e != nil {
		h.Fail(ctx, r, id)
		h.Count("failed")
		h.ShowError(w, r, e)
		return
	}
	h.Count("ok")
	http.Redirect(w, r, next, http.StatusFound)
}

var errForwarded = errors.New("malformed forwarded certificate")

// certificate returns the certificate the client presented: in the
// forwarded header when the peer is a trusted proxy that sent one, else
// on the TLS connection (no Leaf when there is none).
func (m *Method) certificate(h login.Host, r *http.Request) (login.Proof, error) {
	if m.cfg.ForwardedHeader != "" && h.TrustedProxy(r) {
		if v := r.Header.Get(m.cfg.ForwardedHeader); v != "" {
			c, err := parseForwarded(v)
			if err != nil {
				return login.Proof{}, err
			}
			return login.Proof{Method: Forwarded, Leaf: c}, nil
		}
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return login.Proof{}, nil
	}
	return login.Proof{Method: Name, Leaf: r.TLS.PeerCertificates[0], Extra: r.TLS.PeerCertificates[1:]}, nil
}

// parseForwarded reads a URL-escaped PEM certificate.
func parseForwarded(v string) (*x509.Certificate, error) {
	raw, err := url.QueryUnescape(v)
	if err != nil {
		return nil, errForwarded
	}
	b, _ := pem.Decode([]byte(raw))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errForwarded
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, errForwarded
	}
	return c, nil
}

package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/login/cms"
	"github.com/yagona/yagona/idp/login/tlscert"
)

// loginMethods is the one list of login methods, in the order the login
// page offers them. A new method is a package under idp/login and a line
// here (or, built by the caller, an entry of Config.Methods).
func loginMethods(cfg Config) []login.Method {
	ms := []login.Method{cms.New(cms.Config{AgentURL: cfg.AgentURL, ChallengeTTL: cfg.ChallengeTTL})}
	if cfg.TLSLogin {
		ms = append(ms, tlscert.New(tlscert.Config{ForwardedHeader: cfg.ForwardedCertHeader}))
	}
	return append(ms, cfg.Methods...)
}

// boundMethod is a login method and the steps it gave its host.
type boundMethod struct {
	m      login.Method
	routes []login.Route
}

// bindMethods gives each method its host and checks that names and step
// patterns are unique.
func (p *Provider) bindMethods(ms []login.Method) ([]boundMethod, error) {
	names, patterns := map[string]bool{}, map[string]bool{}
	out := make([]boundMethod, 0, len(ms))
	for _, m := range ms {
		if m == nil || m.Name() == "" || names[m.Name()] {
			return nil, errors.New("idp: every login method needs a name of its own")
		}
		names[m.Name()] = true
		routes := m.Routes(&methodHost{p: p, m: m})
		for _, rt := range routes {
			if rt.Handler == nil || patterns[rt.Pattern] {
				return nil, fmt.Errorf("idp: login method %s: step %q has no handler or is taken", m.Name(), rt.Pattern)
			}
			patterns[rt.Pattern] = true
		}
		out = append(out, boundMethod{m: m, routes: routes})
	}
	return out, nil
}

// methodOrigins are the origins the login methods' page scripts talk to.
func (p *Provider) methodOrigins() []string {
	var out []string
	for _, bm := range p.methods {
		for _, o := range bm.m.Origins() {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// pendingLogin is a login request as the methods see it.
type pendingLogin struct {
	id   string
	lr   *loginRequest
	name string // the client's name
}

func (pl *pendingLogin) ID() string         { return pl.id }
func (pl *pendingLogin) ClientID() string   { return pl.lr.Auth.ClientID }
func (pl *pendingLogin) ClientName() string { return pl.name }
func (pl *pendingLogin) Browser() string    { return pl.lr.Browser }

// methodHost is the provider as one login method sees it (login.Host).
type methodHost struct {
	p *Provider
	m login.Method
}

func (h *methodHost) Issuer() string { return h.p.cfg.Issuer }
func (h *methodHost) Now() time.Time { return h.p.now() }

func (h *methodHost) Request(ctx context.Context, r *http.Request, id string) (login.Request, *login.Error) {
	lr, e := h.p.loadLogin(ctx, r, id)
	if e != nil {
		return nil, e
	}
	pl := &pendingLogin{id: id, lr: lr, name: lr.Auth.ClientID}
	c, err := h.p.client(ctx, lr.Auth.ClientID)
	if err != nil {
		return nil, login.Unavailable()
	}
	if c != nil && c.Name != "" {
		pl.name = c.Name
	}
	return pl, nil
}

// reservedKinds are the provider's own cache key prefixes, which a
// method's state may not use.
var reservedKinds = []string{"lr:", "sess:", "code:", "codeused:", "par:", "ui:", "revoked:", "jti:", "fail:"}

var errReservedKind = errors.New("idp: a login method's state may not use the provider's key prefixes")

func (h *methodHost) Put(ctx context.Context, kind, secret string, v any, ttl time.Duration) error {
	if slices.ContainsFunc(reservedKinds, func(k string) bool { return strings.HasPrefix(kind, k) }) {
		return errReservedKind
	}
	return h.p.putJSON(ctx, hashKey(kind, secret), v, ttl)
}

func (h *methodHost) Take(ctx context.Context, kind, secret string, v any) (bool, error) {
	if slices.ContainsFunc(reservedKinds, func(k string) bool { return strings.HasPrefix(kind, k) }) {
		return false, errReservedKind
	}
	return h.p.takeJSON(ctx, hashKey(kind, secret), v)
}

func (h *methodHost) Complete(ctx context.Context, w http.ResponseWriter, r *http.Request, req login.Request, pf login.Proof) (string, *login.Error) {
	pl, ok := req.(*pendingLogin)
	if !ok || pl == nil {
		return "", &login.Error{Status: http.StatusBadRequest, Code: login.CodeInvalidRequest, Detail: "not a pending login request", Key: "error.bad_request"}
	}
	return h.p.completeLogin(ctx, w, r, pl, pf, h.m.Assurance())
}

func (h *methodHost) Limited(ctx context.Context, r *http.Request, clientID string) bool {
	return h.p.limited(ctx, r, clientID)
}

func (h *methodHost) Fail(ctx context.Context, r *http.Request, requestID string) {
	h.p.fail(ctx, r, h.p.loginClient(ctx, requestID))
}

func (h *methodHost) Source(r *http.Request) string        { return h.p.source(r) }
func (h *methodHost) TrustedProxy(r *http.Request) bool    { return h.p.fromTrustedProxy(r) }
func (h *methodHost) Observe(step string, start time.Time) { h.p.m.since(step, start) }
func (h *methodHost) Count(outcome string)                 { h.p.m.login.WithLabelValues(outcome).Inc() }

func (h *methodHost) ShowError(w http.ResponseWriter, r *http.Request, e *login.Error) {
	h.p.showError(w, r, &pageError{e.Status, e.Code, e.Key, e.Detail})
}

package idp

import (
	"net/http"

	"github.com/yagona/yagona/pkg/web"
)

// Endpoint paths. The login methods' steps are their own (methods.go).
const (
	pathDiscovery     = "/.well-known/openid-configuration"
	pathOAuthMetadata = "/.well-known/oauth-authorization-server"
	pathJWKS          = "/oauth2/jwks"
	pathAuthorize     = "/oauth2/authorize"
	pathPAR           = "/oauth2/par"
	pathToken         = "/oauth2/token"
	pathUserinfo      = "/oauth2/userinfo"
	pathIntrospect    = "/oauth2/introspect"
	pathRevoke        = "/oauth2/revoke"
	pathLogout        = "/oauth2/logout"
	pathLogin         = "/login"
	pathConsent       = "/consent"
	pathAdminClients  = "/api/v1/clients"
)

func (p *Provider) url(path string) string { return p.cfg.Issuer + path }

// endpoint is one of the protocol's endpoints: where and how it is
// served, and the metadata field that names it. Register serves exactly
// these and the metadata names exactly these, so the two cannot differ.
type endpoint struct {
	field   string   // the metadata field naming its URL; "" for the metadata documents themselves
	path    string   // under the issuer
	methods []string // HTTP methods it answers
	page    bool     // a browser page (CSRF guard), else an API
	mtls    bool     // accepts the TLS client certificate of tls_client_auth (RFC 8705 §5 alias)
	handler func(*Provider, http.ResponseWriter, *http.Request)
}

var (
	methodsGet     = []string{http.MethodGet}
	methodsGetPost = []string{http.MethodGet, http.MethodPost}
	methodsPost    = []string{http.MethodPost}
)

// endpoints returns the protocol endpoints (a function, not a variable:
// the metadata handler reads them).
func endpoints() []endpoint {
	return []endpoint{
		{field: "", path: pathDiscovery, methods: methodsGet, handler: (*Provider).handleMetadata},
		{field: "", path: pathOAuthMetadata, methods: methodsGet, handler: (*Provider).handleMetadata},
		{field: "jwks_uri", path: pathJWKS, methods: methodsGet, handler: (*Provider).handleJWKS},
		{field: "authorization_endpoint", path: pathAuthorize, methods: methodsGetPost, page: true, handler: (*Provider).handleAuthorize},
		{field: "pushed_authorization_request_endpoint", path: pathPAR, methods: methodsPost, mtls: true, handler: (*Provider).handlePAR},
		{field: "token_endpoint", path: pathToken, methods: methodsPost, mtls: true, handler: (*Provider).handleToken},
		{field: "userinfo_endpoint", path: pathUserinfo, methods: methodsGetPost, mtls: true, handler: (*Provider).handleUserinfo},
		{field: "introspection_endpoint", path: pathIntrospect, methods: methodsPost, mtls: true, handler: (*Provider).handleIntrospect},
		{field: "revocation_endpoint", path: pathRevoke, methods: methodsPost, mtls: true, handler: (*Provider).handleRevoke},
		{field: "end_session_endpoint", path: pathLogout, methods: methodsGetPost, page: true, handler: (*Provider).handleLogout},
	}
}

// Register adds the provider's routes, and its login methods' steps, to
// mux.
func (p *Provider) Register(mux *http.ServeMux) {
	guard := web.NewGuard(p.methodOrigins())
	page := func(h http.HandlerFunc) http.Handler { return guard.Page(h) }
	api := func(h http.HandlerFunc) http.Handler { return p.m.wrap(h) }
	for _, ep := range endpoints() {
		h := func(w http.ResponseWriter, r *http.Request) { ep.handler(p, w, r) }
		for _, m := range ep.methods {
			if ep.page {
				mux.Handle(m+" "+ep.path, page(h))
			} else {
				mux.Handle(m+" "+ep.path, api(h))
			}
		}
	}
	mux.Handle("GET "+pathLogin, page(p.handleLoginPage))
	for _, bm := range p.methods {
		for _, rt := range bm.routes {
			if rt.Page {
				mux.Handle(rt.Pattern, page(rt.Handler))
			} else {
				mux.Handle(rt.Pattern, guard.Script(rt.Handler))
			}
		}
	}
	mux.Handle("GET "+pathConsent, page(p.handleConsentPage))
	mux.Handle("POST "+pathConsent, page(p.handleConsent))
	mux.Handle("GET /static/", p.pages.Static())
	mux.Handle("POST "+pathAdminClients, api(p.handleAdminCreateClient))
	mux.Handle("GET "+pathAdminClients, api(p.handleAdminListClients))
	mux.Handle("GET "+pathAdminClients+"/{id}", api(p.handleAdminGetClient))
	mux.Handle("DELETE "+pathAdminClients+"/{id}", api(p.handleAdminDisableClient))
}

package idp

import (
	"net/http"

	"github.com/yagona/yagona/pkg/web"
)

// Endpoint paths. The login methods' steps are their own (methods.go).
const (
	pathDiscovery    = "/.well-known/openid-configuration"
	pathJWKS         = "/oauth2/jwks"
	pathAuthorize    = "/oauth2/authorize"
	pathPAR          = "/oauth2/par"
	pathToken        = "/oauth2/token"
	pathUserinfo     = "/oauth2/userinfo"
	pathIntrospect   = "/oauth2/introspect"
	pathRevoke       = "/oauth2/revoke"
	pathLogout       = "/oauth2/logout"
	pathLogin        = "/login"
	pathConsent      = "/consent"
	pathAdminClients = "/api/v1/clients"
)

func (p *Provider) url(path string) string { return p.cfg.Issuer + path }

// Register adds the provider's routes, and its login methods' steps, to
// mux.
func (p *Provider) Register(mux *http.ServeMux) {
	guard := web.NewGuard(p.methodOrigins())
	page := func(h http.HandlerFunc) http.Handler { return guard.Page(h) }
	api := func(h http.HandlerFunc) http.Handler { return p.m.wrap(h) }
	mux.Handle("GET "+pathDiscovery, api(p.handleDiscovery))
	mux.Handle("GET "+pathJWKS, api(p.handleJWKS))
	mux.Handle("GET "+pathAuthorize, page(p.handleAuthorize))
	mux.Handle("POST "+pathAuthorize, page(p.handleAuthorize))
	mux.Handle("POST "+pathPAR, api(p.handlePAR))
	mux.Handle("POST "+pathToken, api(p.handleToken))
	mux.Handle("GET "+pathUserinfo, api(p.handleUserinfo))
	mux.Handle("POST "+pathUserinfo, api(p.handleUserinfo))
	mux.Handle("POST "+pathIntrospect, api(p.handleIntrospect))
	mux.Handle("POST "+pathRevoke, api(p.handleRevoke))
	mux.Handle("GET "+pathLogout, page(p.handleLogout))
	mux.Handle("POST "+pathLogout, page(p.handleLogout))
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

package idp

import (
	"github.com/yagona/yagona/pkg/httpjson"
	"net/http"
)

// handleDiscovery serves OpenID Connect Discovery 1.0 metadata (also
// valid RFC 8414 authorization server metadata).
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	authMethods := []string{AuthSecretBasic, "client_secret_post", AuthPrivateKeyJWT, AuthTLSClient, AuthNone}
	md := map[string]any{
		"issuer":                                                   p.cfg.Issuer,
		"authorization_endpoint":                                   p.url(pathAuthorize),
		"token_endpoint":                                           p.url(pathToken),
		"userinfo_endpoint":                                        p.url(pathUserinfo),
		"jwks_uri":                                                 p.url(pathJWKS),
		"pushed_authorization_request_endpoint":                    p.url(pathPAR),
		"introspection_endpoint":                                   p.url(pathIntrospect),
		"revocation_endpoint":                                      p.url(pathRevoke),
		"end_session_endpoint":                                     p.url(pathLogout),
		"scopes_supported":                                         knownScopes,
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 []string{"query"},
		"grant_types_supported":                                    []string{GrantCode, GrantRefresh, GrantClientCredentials},
		"subject_types_supported":                                  []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported":                    []string{string(tokenAlg)},
		"userinfo_signing_alg_values_supported":                    []string{"none"},
		"code_challenge_methods_supported":                         []string{"S256"},
		"token_endpoint_auth_methods_supported":                    authMethods,
		"token_endpoint_auth_signing_alg_values_supported":         []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"},
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"revocation_endpoint_auth_methods_supported":               authMethods,
		"tls_client_certificate_bound_access_tokens":               true,
		"authorization_response_iss_parameter_supported":           true,
		"require_pushed_authorization_requests":                    false,
		"request_parameter_supported":                              false,
		"request_uri_parameter_supported":                          true,
		"require_request_uri_registration":                         true,
		"claims_parameter_supported":                               false,
		"acr_values_supported":                                     []string{ACRLow, ACRSubstantial, ACRHigh},
		"claims_supported":                                         []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash", "given_name", "family_name", "name", "birthdate", "pinfl", "tin", "organization", "position"},
		"backchannel_logout_supported":                             true,
		"backchannel_logout_session_supported":                     true,
		"frontchannel_logout_supported":                            false,
		"prompt_values_supported":                                  []string{"none", "login", "consent"},
		"ui_locales_supported":                                     []string{"uz", "ru", "en"},
		"mtls_endpoint_aliases":                                    map[string]string{"token_endpoint": p.url(pathToken), "userinfo_endpoint": p.url(pathUserinfo), "introspection_endpoint": p.url(pathIntrospect), "revocation_endpoint": p.url(pathRevoke), "pushed_authorization_request_endpoint": p.url(pathPAR)},
		"introspection_endpoint_auth_signing_alg_values_supported": []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"},
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	httpjson.WriteCached(w, http.StatusOK, md)
}

// handleJWKS serves the published signing keys.
func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := p.jwks(r.Context())
	if err != nil {
		p.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=900")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	httpjson.WriteCached(w, http.StatusOK, set)
}

package idp

import (
	"net/http"

	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/web"
)

// Capabilities the metadata states. Each is the list the code that
// enforces it reads, so the document cannot promise more or less.
var (
	responseTypes        = []string{"code"}  // parseResponseType
	responseModes        = []string{"query"} // parseResponseType
	codeChallengeMethods = []string{"S256"}  // parsePKCE
	subjectTypes         = []string{"public", "pairwise"}
	acrValues            = []string{ACRLow, ACRSubstantial, ACRHigh}
	// endpointAuthMethods are the client authentications the token, PAR,
	// introspection and revocation endpoints accept (clientProves): the
	// registrable methods and client_secret_post, which a client
	// registered with client_secret_basic may use instead.
	endpointAuthMethods = []string{AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthTLSClient, AuthNone}
)

// metadata is the provider's metadata: OpenID Connect Discovery 1.0 §3
// and RFC 8414 §2 with the fields of RFC 8705 §3.3 and §5, RFC 9126 §5
// and RFC 9207 §3. The OpenID fields are registered RFC 8414 metadata too
// (RFC 8414 §7.1.2), so both well-known documents are this one document:
// an OAuth-only client and an OpenID client read the same promises.
func (p *Provider) metadata() map[string]any {
	md := map[string]any{
		"issuer":                                         p.cfg.Issuer,
		"scopes_supported":                               knownScopes,
		"response_types_supported":                       responseTypes,
		"response_modes_supported":                       responseModes,
		"grant_types_supported":                          grantTypes,
		"code_challenge_methods_supported":               codeChallengeMethods,
		"ui_locales_supported":                           web.Languages(),
		"authorization_response_iss_parameter_supported": true,
		"require_pushed_authorization_requests":          false,
		// Request objects are refused (request_not_supported); request_uri
		// is only the urn of a pushed request, never registered.
		"request_parameter_supported":                false,
		"request_uri_parameter_supported":            true,
		"require_request_uri_registration":           false,
		"tls_client_certificate_bound_access_tokens": true,
		// OpenID Connect.
		"subject_types_supported":               subjectTypes,
		"id_token_signing_alg_values_supported": []string{string(tokenAlg)},
		"claims_supported":                      claimsSupported,
		"claims_parameter_supported":            false,
		"acr_values_supported":                  acrValues,
		"prompt_values_supported":               promptValues,
		"backchannel_logout_supported":          true,
		"backchannel_logout_session_supported":  true,
		"frontchannel_logout_supported":         false,
	}
	aliases := map[string]string{}
	for _, ep := range endpoints() {
		if ep.field == "" {
			continue
		}
		md[ep.field] = p.url(ep.path)
		if ep.mtls {
			aliases[ep.field] = p.url(ep.path)
		}
	}
	md["mtls_endpoint_aliases"] = aliases
	for _, ep := range []string{"token_endpoint", "introspection_endpoint", "revocation_endpoint"} {
		md[ep+"_auth_methods_supported"] = endpointAuthMethods
		md[ep+"_auth_signing_alg_values_supported"] = assertionAlgs
	}
	return md
}

// handleMetadata serves the metadata at both well-known paths: OpenID
// Connect Discovery's and RFC 8414's (§3: the issuer has no path, so the
// suffix is the whole path).
func (p *Provider) handleMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	httpjson.WriteCached(w, http.StatusOK, p.metadata())
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

package idp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	logincms "github.com/yagona/yagona/idp/login/cms"
	"github.com/yagona/yagona/idp/login/tlscert"
)

// TestHostileInputNever5xx sends malformed, oversized and hostile requests
// to every endpoint: each gets a 4xx (or the protocol's own answer), never
// a 5xx, a panic or a dropped connection.
func TestHostileInputNever5xx(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) {
		c.Operators = fakeOperators{"yop_test_admin": "test"}
	})
	e.client("rp1", nil)
	big := strings.Repeat("A", 300<<10)
	form := "application/x-www-form-urlencoded"
	js := "application/json"
	type req struct {
		method, path, ctype, body string
		hdr                       map[string]string
	}
	reqs := []req{
		{"GET", pathAuthorize + "?client_id=%zz", "", "", nil},
		{"GET", pathAuthorize + "?client_id=rp1&redirect_uri=" + url.QueryEscape("https://rp.example/cb") + "&response_type=code&scope=" + strings.Repeat("x", 5000), "", "", nil},
		{"GET", pathAuthorize + "?client_id=\xff\xfe", "", "", nil},
		{"POST", pathAuthorize, form, big, nil},
		{"POST", pathAuthorize, "text/plain", "client_id=rp1", nil},
		{"GET", pathAuthorize + "?client_id=rp1&request_uri=urn:ietf:params:oauth:request_uri:%00", "", "", nil},
		{"POST", pathToken, form, "", nil},
		{"POST", pathToken, js, `{"grant_type":"authorization_code"}`, nil},
		{"POST", pathToken, form, big, nil},
		{"POST", pathToken, form, "grant_type=authorization_code&code=" + strings.Repeat("c", 1000), map[string]string{"Authorization": "Basic !!!"}},
		{"POST", pathToken, form, "grant_type=client_credentials", map[string]string{"Authorization": "Basic cnAxOiV6eg=="}},
		{"POST", pathToken, form, "grant_type=refresh_token&refresh_token=yrt_%00", map[string]string{"Authorization": "Basic cnAxOng="}},
		{"POST", pathToken, form, "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c&grant_type=x", nil},
		{"POST", pathToken, form, "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + big[:20000], nil},
		{"POST", pathToken, form, "grant_type=a&grant_type=b", nil},
		{"POST", pathPAR, form, "response_type=code", nil},
		{"POST", pathPAR, form, big, nil},
		{"GET", pathUserinfo, "", "", map[string]string{"Authorization": "Bearer " + strings.Repeat("x.", 3000)}},
		{"GET", pathUserinfo, "", "", map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.e30."}},
		{"POST", pathUserinfo, form, "access_token=%zz", nil},
		{"POST", pathIntrospect, form, "token=x", nil},
		{"POST", pathIntrospect, form, "token=" + big[:10000], map[string]string{"Authorization": "Basic cnAxOng="}},
		{"POST", pathRevoke, form, "token=x&token_type_hint=zzz", nil},
		{"GET", pathLogout + "?id_token_hint=" + strings.Repeat("x", 2000), "", "", nil},
		{"GET", pathLogout + "?post_logout_redirect_uri=javascript:alert(1)", "", "", nil},
		{"POST", pathLogout, form, "decision=logout&csrf=x", nil},
		{"POST", pathLogout, form, big, nil},
		{"GET", pathLogin + "?request=" + strings.Repeat("%", 43), "", "", nil},
		{"GET", pathLogin, "", "", nil},
		{"POST", logincms.PathChallenge, js, `null`, nil},
		{"POST", logincms.PathChallenge, js, `[]`, nil},
		{"POST", logincms.PathChallenge, js, `{"request":123}`, nil},
		{"POST", logincms.PathChallenge, js, big, nil},
		{"POST", logincms.PathChallenge, "text/plain", `{"request":"x"}`, nil},
		{"POST", logincms.PathCertificate, js, `{"request":"` + strings.Repeat("A", 43) + `","signature":"` + big[:100000] + `"}`, nil},
		{"POST", logincms.PathCertificate, js, `{"request":"x","signature":"MA=="}{}`, nil},
		{"GET", tlscert.Path + "?request=x", "", "", nil},
		{"GET", pathConsent + "?request=x", "", "", nil},
		{"POST", pathConsent, form, "request=x&csrf=y&decision=allow", nil},
		{"POST", pathConsent, form, big, nil},
		{"POST", pathAdminClients, js, `{"client_id":"x"}`, nil},
		{"POST", pathAdminClients, js, `{"client_id":"ok-id","client_name":"n","redirect_uris":["javascript:x"]}`, map[string]string{"Authorization": "Bearer yop_test_admin"}},
		{"POST", pathAdminClients, js, `{"client_id":"ok-id","client_name":"n","jwks":{"keys":[{"kty":"EC"}]},"token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://a.example/cb"]}`, map[string]string{"Authorization": "Bearer yop_test_admin"}},
		{"POST", pathAdminClients, js, big, map[string]string{"Authorization": "Bearer yop_test_admin"}},
		{"GET", pathAdminClients + "/..%2f..", "", "", map[string]string{"Authorization": "Bearer yop_test_admin"}},
		{"DELETE", pathAdminClients + "/nobody", "", "", map[string]string{"Authorization": "Bearer yop_test_admin"}},
		{"GET", "/static/../../etc/passwd", "", "", nil},
		{"GET", "/static/%2e%2e/web.go", "", "", nil},
		{"PUT", pathToken, form, "", nil},
	}
	for _, r := range reqs {
		name := r.method + " " + r.path
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			hr, err := http.NewRequest(r.method, e.issuer+r.path, strings.NewReader(r.body))
			if err != nil {
				t.Skipf("the client cannot even build it: %v", err)
			}
			if r.ctype != "" {
				hr.Header.Set("Content-Type", r.ctype)
			}
			for k, v := range r.hdr {
				hr.Header.Set(k, v)
			}
			resp, err := e.browser().Do(hr)
			if err != nil {
				t.Fatalf("transport error (a panic drops the connection): %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%d", resp.StatusCode)
			}
		})
	}
}

package idp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fakeOperators accepts the operator tokens it maps to credential ids.
type fakeOperators map[string]string

func (f fakeOperators) Authenticate(_ context.Context, tok string) (string, error) {
	if id, ok := f[tok]; ok {
		return id, nil
	}
	return "", errors.New("fake: invalid operator token")
}

// fakeRoles maps PINFLs to roles; errPINFL's lookup fails.
type fakeRoles map[string]string

const errPINFL = "49999999999999"

func (f fakeRoles) PersonRole(_ context.Context, pinfl string) (string, error) {
	if pinfl == errPINFL {
		return "", errors.New("fake: store down")
	}
	return f[pinfl], nil
}

// TestAdminAuthorization: the administrator API takes an operator token
// or an access token with clients:admin, nothing else; without
// Config.Operators it is off.
func TestAdminAuthorization(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) { c.Operators = fakeOperators{"yop_ops_secret": "ops"} })
	for id, scope := range map[string]string{"admin-svc": "clients:admin", "other-svc": "decisions"} {
		e.client(id, func(in *ClientInput) {
			in.GrantTypes, in.Scopes, in.RedirectURIs = []string{GrantClientCredentials}, []string{scope}, nil
		})
	}
	token := func(client, scope string) string {
		st, out := postForm(t, e.browser(), e.issuer+pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, client, e.secrets[client])
		if st != http.StatusOK {
			t.Fatalf("client credentials for %s: %d %v", client, st, out)
		}
		return out["access_token"].(string)
	}
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"not bearer", "Basic b3BzOnNlY3JldA==", http.StatusUnauthorized},
		{"operator token", "Bearer yop_ops_secret", http.StatusOK},
		{"wrong operator token", "Bearer yop_ops_wrong", http.StatusUnauthorized},
		{"access token with clients:admin", "Bearer " + token("admin-svc", "clients:admin"), http.StatusOK},
		{"access token without clients:admin", "Bearer " + token("other-svc", "decisions"), http.StatusUnauthorized},
		{"garbage", "Bearer " + strings.Repeat("x", 40), http.StatusUnauthorized},
	}
	off := newEnv(t, backends(t)[0])
	req, _ := http.NewRequest(http.MethodGet, off.issuer+pathAdminClients, nil)
	req.Header.Set("Authorization", "Bearer yop_ops_secret")
	if st, _, _ := do(t, off.browser(), req); st != http.StatusNotFound {
		t.Fatalf("admin API without Operators: %d, want 404", st)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+pathAdminClients, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if st, _, body := do(t, e.browser(), req); st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, body)
			}
		})
	}
}

// TestPrivilegedScopes: a person receives the privileged scopes their
// role allows and no others; without Roles nobody does; a failing role
// lookup fails the login rather than granting.
func TestPrivilegedScopes(t *testing.T) {
	const asked = "openid pinfl ca:officer ca:admin clients:admin"
	roles := fakeRoles{"31204900012345": RoleOfficer, "31204900012346": RoleAdmin}
	tests := []struct {
		name, pinfl string
		roles       Roles
		want        string
	}{
		{"officer", "31204900012345", roles, "openid pinfl ca:officer"},
		{"admin", "31204900012346", roles, asked},
		{"no role", "31204900012347", roles, "openid pinfl"},
		{"no roles configured", "31204900012346", nil, "openid pinfl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends(t)[0], func(c *Config) { c.Roles = tc.roles })
			e.client("rp1", func(in *ClientInput) { in.Scopes = strings.Fields(asked) })
			pk := newPKCE()
			code := e.code(e.browser(), "rp1", e.ca.person(t, tc.pinfl, "Ali", "Valiyev"), pk, url.Values{"scope": {asked}})
			st, out := e.exchange("rp1", code, pk)
			if st != http.StatusOK || out["scope"] != tc.want {
				t.Fatalf("granted %d %v, want scope %q", st, out["scope"], tc.want)
			}
		})
	}
	t.Run("role lookup fails", func(t *testing.T) {
		e := newEnv(t, backends(t)[0], func(c *Config) { c.Roles = roles })
		e.client("rp1", func(in *ClientInput) { in.Scopes = strings.Fields(asked) })
		b := e.browser()
		id := e.startLogin(b, e.authorizeURL("rp1", newPKCE(), url.Values{"scope": {asked}}))
		if st, out := e.loginCMS(b, id, e.ca.person(t, errPINFL, "Ali", "Valiyev")); st != http.StatusServiceUnavailable {
			t.Fatalf("login while the role lookup failed: %d %v", st, out)
		}
	})
}

// TestActor: audit records name a person by PINFL, a service by client.
func TestActor(t *testing.T) {
	for _, tc := range []struct {
		at   AccessToken
		want string
	}{
		{AccessToken{PINFL: "31204900012345", ClientID: "yagona-cli"}, "officer:31204900012345"},
		{AccessToken{ClientID: "svc"}, "client:svc"},
	} {
		if got := tc.at.Actor(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.at, got, tc.want)
		}
	}
}

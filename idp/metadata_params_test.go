package idp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestMetadataAuthorizeParams: every advertised value of an authorization
// request parameter is accepted, and a value not advertised is refused.
func TestMetadataAuthorizeParams(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	e.client("rp1", nil)
	tests := []struct {
		param, field string
		unlisted     []string
	}{
		{"response_type", "response_types_supported", []string{"token", "id_token", "code id_token"}},
		{"response_mode", "response_modes_supported", []string{"fragment", "form_post", "jwt"}},
		{"code_challenge_method", "code_challenge_methods_supported", []string{"plain", "S512"}},
		{"prompt", "prompt_values_supported", []string{"create", "bogus"}},
		{"acr_values", "acr_values_supported", []string{"urn:mace:incommon:iap:silver", "loa4"}},
	}
	// refused reports the error a request with param=value gets, or "".
	refused := func(param, value string) string {
		st, loc, body := get(t, e.browser(), e.authorizeURL("rp1", newPKCE(), url.Values{param: {value}}))
		if st != http.StatusFound {
			t.Fatalf("%s=%s: %d %s", param, value, st, body)
		}
		u, _ := url.Parse(loc)
		switch code := u.Query().Get("error"); code {
		case "", errLoginRequired: // prompt=none without a session is an answer, not a refusal
			return ""
		default:
			return code
		}
	}
	for _, tc := range tests {
		for _, v := range strs(t, md, tc.field) {
			if code := refused(tc.param, v); code != "" {
				t.Errorf("advertised %s=%s refused: %s", tc.param, v, code)
			}
		}
		for _, v := range tc.unlisted {
			if code := refused(tc.param, v); code == "" {
				t.Errorf("%s=%s is not advertised but accepted", tc.param, v)
			}
		}
	}
}

// TestMetadataRegistration: a client may register each advertised scope
// and subject type, and nothing else.
func TestMetadataRegistration(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	base := func() ClientInput {
		return ClientInput{ID: "svc", Name: "Service", RedirectURIs: []string{"https://rp.example/cb"}}
	}
	tests := []struct {
		field    string
		set      func(in *ClientInput, v string)
		unlisted []string
	}{
		{"scopes_supported", func(in *ClientInput, v string) { in.Scopes = []string{v} }, []string{"email", "phone", "address"}},
		{"subject_types_supported", func(in *ClientInput, v string) { in.SubjectType = v }, []string{"ephemeral"}},
		{"grant_types_supported", func(in *ClientInput, v string) { in.GrantTypes = []string{v} }, []string{"password", "implicit"}},
	}
	for _, tc := range tests {
		for _, v := range strs(t, md, tc.field) {
			in := base()
			tc.set(&in, v)
			if _, err := in.validate(); err != nil {
				t.Errorf("advertised %s %s: %v", tc.field, v, err)
			}
		}
		for _, v := range tc.unlisted {
			in := base()
			tc.set(&in, v)
			if _, err := in.validate(); !errors.Is(err, ErrClient) {
				t.Errorf("unadvertised %s %s registered: %v", tc.field, v, err)
			}
		}
	}
}

// TestMetadataClaims: every claim of an ID token and of userinfo is
// advertised, and every advertised claim is issued.
func TestMetadataClaims(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	md, _ := e.metadataDoc(pathDiscovery)
	advertised := strs(t, md, "claims_supported")
	e.client("rp1", nil)
	h := e.ca.person(t, "31204900012345", "Dilnoza", "Karimova", withOrg("123456789", "Soliq", "Inspector"))
	pk := newPKCE()
	scopes := url.Values{"scope": {"openid profile pinfl organization"}}
	st, tok := e.exchange("rp1", e.code(e.browser(), "rp1", h, pk, scopes), pk)
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, tok)
	}
	issued := map[string]bool{}
	for k := range claims(t, tok["id_token"].(string)) {
		issued[k] = true
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	_, _, body := do(t, e.browser(), req)
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil || info["organization"] == nil {
		t.Fatalf("userinfo: %v %s", err, body)
	}
	for k := range info {
		issued[k] = true
	}
	for k := range issued {
		if !slices.Contains(advertised, k) {
			t.Errorf("ID token claim %s is not advertised", k)
		}
	}
	// A person with every attribute (the birth date comes from the
	// registry) and every scope: nothing advertised is never issued.
	full := person{PINFL: "1", GivenName: "g", FamilyName: "f", Name: "n", Birthdate: "2000-01-01", TIN: "t", Organization: "o", Position: "p"}
	for k := range personClaims(full, knownScopes) {
		issued[k] = true
	}
	for _, k := range advertised {
		if !issued[k] {
			t.Errorf("advertised claim %s is never issued", k)
		}
	}
}

package idp

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAdminProblems: the client administration API answers its errors as
// problem documents (RFC 9457) with the codes it always had.
func TestAdminProblems(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) {
		c.Operators = fakeOperators{"yop_test_admin": "test"}
	})
	off := newEnv(t, backends(t)[0])
	good := `{"client_id":"rp-new","client_name":"New","redirect_uris":["https://rp.example/cb"]}`
	for _, tc := range []struct {
		name, method, path, ctype, body string
		admin                           bool
		env                             *env
		status                          int
		code                            string // "" for success
	}{
		{"not enabled", "GET", pathAdminClients, "", "", true, off, http.StatusNotFound, "not_found"},
		{"no token", "GET", pathAdminClients, "", "", false, e, http.StatusUnauthorized, "unauthorized"},
		{"not JSON", "POST", pathAdminClients, "text/plain", good, true, e, http.StatusUnsupportedMediaType, errInvalidRequest},
		{"too large", "POST", pathAdminClients, "application/json", `{"client_name":"` + strings.Repeat("n", maxAdminBody) + `"}`, true, e, http.StatusRequestEntityTooLarge, errInvalidRequest},
		{"unknown field", "POST", pathAdminClients, "application/json", `{"colour":"red"}`, true, e, http.StatusBadRequest, errInvalidRequest},
		{"bad metadata", "POST", pathAdminClients, "application/json", `{"client_id":"rp-bad","client_name":"n","redirect_uris":["javascript:x"]}`, true, e, http.StatusBadRequest, "invalid_client_metadata"},
		{"registered", "POST", pathAdminClients, "application/json", good, true, e, http.StatusCreated, ""},
		{"registered twice", "POST", pathAdminClients, "application/json", good, true, e, http.StatusBadRequest, "invalid_client_metadata"},
		{"read", "GET", pathAdminClients + "/rp-new", "", "", true, e, http.StatusOK, ""},
		{"read unknown", "GET", pathAdminClients + "/nobody", "", "", true, e, http.StatusNotFound, "not_found"},
		{"disable unknown", "DELETE", pathAdminClients + "/nobody", "", "", true, e, http.StatusNotFound, "not_found"},
		{"disable", "DELETE", pathAdminClients + "/rp-new", "", "", true, e, http.StatusNoContent, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.env.issuer+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.admin {
				req.Header.Set("Authorization", "Bearer yop_test_admin")
			}
			resp, err := tc.env.browser().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var pr struct {
				Status  int    `json:"status"`
				Title   string `json:"title"`
				Code    string `json:"error"`
				Message string `json:"message"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&pr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %+v; want %d", resp.StatusCode, pr, tc.status)
			}
			if tc.code == "" {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || pr.Code != tc.code || pr.Status != tc.status || pr.Title == "" {
				t.Fatalf("%s %+v; want a problem with error %s", ct, pr, tc.code)
			}
			if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

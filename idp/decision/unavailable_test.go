package decision_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestStoreUnavailable: with the database gone every endpoint answers 503
// (never 404, which a cache would keep, or 500), and the sweep carries on.
func TestStoreUnavailable(t *testing.T) {
	for _, tc := range []struct {
		method, path, token string
		body                any
		code                string
	}{
		{"POST", "/api/v1/decisions", tokService, registration(), "unavailable"},
		{"GET", "/api/v1/decisions", person(pinflA), nil, "unavailable"},
		{"GET", "/api/v1/decisions/{id}", tokService, nil, "unavailable"},
		{"GET", "/api/v1/decisions/{id}/document", person(pinflA), nil, "unavailable"},
		{"POST", "/api/v1/decisions/{id}/signatures", person(pinflA), "sig", "unavailable"},
		{"POST", "/api/v1/decisions/{id}/reject", person(pinflA), map[string]string{"reason": "no"}, "unavailable"},
		{"POST", "/api/v1/decisions/{id}/withdraw", tokService, nil, "unavailable"},
		{"GET", "/api/v1/decisions/{id}/combined", "", nil, "unavailable"},
		{"GET", "/api/v1/decisions/{id}/evidence", "", nil, "unavailable"},
		{"GET", "/d/{id}", "", nil, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			e := newEnv(t)
			id := e.register(registration())
			body := tc.body
			if body == "sig" {
				body = signBody(e.pki.sign(t, pinflA, doc))
			}
			if err := e.store.Close(); err != nil {
				t.Fatal(err)
			}
			r := e.doJSON(tc.method, strings.ReplaceAll(tc.path, "{id}", id), tc.token, body)
			want(t, r, http.StatusServiceUnavailable, tc.code)
			e.svc.Sweep(t.Context()) // logs, does not panic
		})
	}
}

package decision

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/yagona/yagona/idp"
)

type fakeTokens map[string]*idp.AccessToken

func (f fakeTokens) VerifyAccessToken(_ *http.Request, tok string) (*idp.AccessToken, error) {
	if at, ok := f[tok]; ok {
		return at, nil
	}
	return nil, errors.New("fake: unknown token")
}

// TestAuthenticate: the caller is read from a verified bearer token; no
// token or an unverifiable one is refused.
func TestAuthenticate(t *testing.T) {
	s := New(Config{Tokens: fakeTokens{
		"person":  {PINFL: "31204900012345", ClientID: "rp", Scopes: []string{"openid"}},
		"service": {ClientID: "svc", Scopes: []string{"decisions"}},
	}})
	tests := []struct {
		name, auth string
		want       *Principal
	}{
		{"person", "Bearer person", &Principal{ClientID: "rp", PINFL: "31204900012345"}},
		{"service", "bearer service", &Principal{ClientID: "svc"}},
		{"forged", "Bearer forged", nil},
		{"basic", "Basic c3ZjOng=", nil},
		{"none", "", nil},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/decisions", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		p, err := s.authenticate(r)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%s: accepted as %+v", tc.name, p)
		case tc.want != nil && (err != nil || p.ClientID != tc.want.ClientID || p.PINFL != tc.want.PINFL):
			t.Errorf("%s: %+v %v, want %+v", tc.name, p, err, tc.want)
		}
	}
}

package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/yagona/yagona/internal/operator"
)

// fakeTokens knows one access token per string.
type fakeTokens map[string]AccessToken

func (f fakeTokens) VerifyAccessToken(_ *http.Request, tok string) (AccessToken, error) {
	if at, ok := f[tok]; ok {
		return at, nil
	}
	return AccessToken{}, errors.New("fake: unknown token")
}

// TestOfficerTokens: the officer API takes access tokens with ca:officer
// or ca:admin; every refusal is operator.ErrInvalid (401, not 503).
func TestOfficerTokens(t *testing.T) {
	s := &Server{cfg: Config{Tokens: fakeTokens{
		"officer": {Actor: "officer:31204900012345", Scopes: []string{"openid", "ca:officer"}},
		"admin":   {Actor: "officer:31204900012346", Scopes: []string{"ca:admin"}},
		"citizen": {Actor: "officer:31204900012347", Scopes: []string{"openid", "pinfl"}},
	}}}
	tests := []struct{ tok, actor string }{
		{"officer", "officer:31204900012345"},
		{"admin", "officer:31204900012346"},
		{"citizen", ""},
		{"forged", ""},
	}
	for _, tc := range tests {
		actor, err := s.officer(httptest.NewRequest(http.MethodGet, "/", nil), tc.tok)
		if tc.actor == "" {
			if !errors.Is(err, operator.ErrInvalid) {
				t.Errorf("%s: %q %v, want operator.ErrInvalid", tc.tok, actor, err)
			}
			continue
		}
		if err != nil || actor != tc.actor {
			t.Errorf("%s: %q %v, want %q", tc.tok, actor, err, tc.actor)
		}
	}
}

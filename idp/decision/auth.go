package decision

import (
	"errors"
	"net/http"

	"github.com/yagona/yagona/pkg/httpjson"
)

// errNoToken is a call without a bearer token.
var errNoToken = errors.New("decision: no bearer token")

// authenticate reads the caller from the request's access token: a
// service (client credentials) or a person (PINFL). An error means 401.
func (s *Service) authenticate(r *http.Request) (*Principal, error) {
	tok, ok := httpjson.Bearer(r)
	if !ok {
		return nil, errNoToken
	}
	at, err := s.cfg.Tokens.VerifyAccessToken(r, tok)
	if err != nil {
		return nil, err
	}
	return &Principal{ClientID: at.ClientID, PINFL: at.PINFL, Scopes: at.Scopes}, nil
}

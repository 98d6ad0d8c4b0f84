package server

import (
	"net/http"

	"github.com/yagona/yagona/ca/api"
	"github.com/yagona/yagona/idp"
)

// caTokens gives the CA's officer API the provider's access-token
// verifier in the API's own terms (ca does not import idp).
type caTokens struct{ p *idp.Provider }

func (t caTokens) VerifyAccessToken(r *http.Request, tok string) (api.AccessToken, error) {
	at, err := t.p.VerifyAccessToken(r, tok)
	if err != nil {
		return api.AccessToken{}, err
	}
	return api.AccessToken{Actor: at.Actor(), Scopes: at.Scopes}, nil
}

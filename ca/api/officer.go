package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/yagona/yagona/internal/operator"
)

// officer accepts an access token with the ca:officer or ca:admin scope
// and returns who acts; every refusal wraps operator.ErrInvalid.
func (s *Server) officer(r *http.Request, tok string) (string, error) {
	at, err := s.cfg.Tokens.VerifyAccessToken(r, tok)
	if err != nil {
		return "", fmt.Errorf("%w: %v", operator.ErrInvalid, err)
	}
	if !slices.Contains(at.Scopes, "ca:officer") && !slices.Contains(at.Scopes, "ca:admin") {
		return "", fmt.Errorf("%w: the token lacks the ca:officer scope", operator.ErrInvalid)
	}
	return at.Actor, nil
}

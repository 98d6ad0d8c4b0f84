package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/httpjson"
)

// Operators authenticates the bearer tokens of operator credentials: the
// bootstrap administrator's and those `yagona operator add` makes. It
// returns the credential's id. internal/operator satisfies it.
type Operators interface {
	Authenticate(ctx context.Context, token string) (id string, err error)
}

// Roles tells the role `yagona operator grant` recorded for a person:
// RoleAdmin, RoleOfficer, or "" for none. internal/operator satisfies it.
type Roles interface {
	PersonRole(ctx context.Context, pinfl string) (string, error)
}

// The roles a person may hold, and the privileged scopes each releases.
const (
	RoleOfficer = "officer" // ca:officer
	RoleAdmin   = "admin"   // every privileged scope
)

// privilegedScopes are released to a person only if their role allows
// it (mayReceive).
var privilegedScopes = []string{"ca:officer", "ca:admin", "clients:admin"}

// errNoBearer is a request to the administrator API without a token.
var errNoBearer = errors.New("idp: no bearer token")

// Actor names who acts with the token in audit records:
// "officer:<PINFL>" for a person, "client:<client_id>" for a service.
func (at *AccessToken) Actor() string {
	if at.PINFL != "" {
		return "officer:" + at.PINFL
	}
	return "client:" + at.ClientID
}

// mayReceive reports whether a person may receive a privileged scope:
// an administrator every one, an officer ca:officer, anyone else none.
// Without Config.Roles nobody may.
func (p *Provider) mayReceive(ctx context.Context, pinfl, scope string) (bool, error) {
	if p.cfg.Roles == nil {
		return false, nil
	}
	role, err := p.cfg.Roles.PersonRole(ctx, pinfl)
	if err != nil {
		return false, err
	}
	switch role {
	case RoleAdmin:
		return true, nil
	case RoleOfficer:
		return scope == "ca:officer", nil
	}
	return false, nil
}

// authorizeAdmin authorizes a request to the administrator API: an
// operator token (Config.Operators; the actor is admin:<id>) or one of
// our access tokens that carries scope (the actor is AccessToken.Actor).
// Any error means 401.
func (p *Provider) authorizeAdmin(r *http.Request, scope string) (string, error) {
	tok, ok := httpjson.Bearer(r)
	if !ok {
		return "", errNoBearer
	}
	if operator.IsToken(tok) {
		id, err := p.cfg.Operators.Authenticate(r.Context(), tok)
		if err != nil {
			return "", err
		}
		return "admin:" + id, nil
	}
	at, err := p.VerifyAccessToken(r, tok)
	if err != nil {
		return "", fmt.Errorf("%w: %v", operator.ErrInvalid, err)
	}
	if !slices.Contains(at.Scopes, scope) {
		return "", fmt.Errorf("%w: scope %s missing", operator.ErrInvalid, scope)
	}
	return at.Actor(), nil
}

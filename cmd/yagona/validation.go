package main

import (
	"errors"
	"net/http"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/idp/decision"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/validation"
)

// newValidator wires signature validation: the app's trust anchors (our
// own CA with its records, the configured external anchors with OCSP)
// under the embedded default policy.
func (a *app) newValidator() (*validation.Validator, error) {
	b, err := configs.Files.ReadFile("validation-policy.yaml")
	if err != nil {
		return nil, err
	}
	pol, err := validation.ParsePolicy(b)
	if err != nil {
		return nil, err
	}
	return &validation.Validator{Trust: a.trust, Policy: pol}, nil
}

// decisionAuth reads the caller of the decision API from an access token:
// a service (client credentials) or a person (PINFL).
func (a *app) decisionAuth(r *http.Request) (*decision.Principal, error) {
	tok, ok := httpjson.Bearer(r)
	if !ok {
		return nil, errors.New("no token")
	}
	at, err := a.idp.VerifyAccessToken(r, tok)
	if err != nil {
		return nil, err
	}
	return &decision.Principal{ClientID: at.ClientID, PINFL: at.PINFL, Scopes: at.Scopes}, nil
}

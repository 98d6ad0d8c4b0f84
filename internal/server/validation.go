package server

import (
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/validation"
)

// newValidator wires signature validation: the server's trust anchors (our
// own CA with its records, the configured external anchors with OCSP)
// under the embedded default policy.
func (a *Server) newValidator() (*validation.Validator, error) {
	pol, err := config.ValidationPolicy()
	if err != nil {
		return nil, err
	}
	return &validation.Validator{Trust: a.trust, Policy: pol}, nil
}

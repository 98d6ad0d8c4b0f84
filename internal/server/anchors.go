package server

import (
	"crypto/x509"
	"fmt"

	"github.com/yagona/yagona/pkg/revocation"
	"github.com/yagona/yagona/pkg/trust"
)

// newTrust builds the trust anchors once, for the provider and the
// validator alike: our own CA first (status from its records), then each
// of idp.external_anchors, loaded and checked by trust.LoadAnchor (status
// from the OCSP responder its certificates name, unless "none").
func (a *Server) newTrust() (*trust.Verifier, error) {
	anchors := []trust.Anchor{{Name: "yagona", Root: a.hier.Root, Intermediates: []*x509.Certificate{a.hier.Issuing}, Status: a.auth}}
	for i, ea := range a.cfg.IDP.ExternalAnchors {
		inter := make([]string, len(ea.Intermediates))
		for j, f := range ea.Intermediates {
			inter[j] = a.cfg.DataPath(f)
		}
		an, err := trust.LoadAnchor(ea.Name, a.cfg.DataPath(ea.Root), inter...)
		if err != nil {
			return nil, fmt.Errorf("idp.external_anchors[%d]: %w", i, err)
		}
		an.FailOpen = ea.FailOpen
		if ea.Status != "none" {
			an.Status = &revocation.OCSP{Cache: a.cache}
		}
		anchors = append(anchors, an)
	}
	return trust.NewVerifier(anchors...)
}

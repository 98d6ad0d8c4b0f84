package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/revocation"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/validation"
)

// newValidator wires signature validation: our own CA (status from its
// records, with revocation times) and the configured external anchors
// (OCSP), under the embedded default policy.
func (a *Server) newValidator() (*validation.Validator, error) {
	pol, err := config.ValidationPolicy()
	if err != nil {
		return nil, err
	}
	anchors := []validation.Anchor{{Name: "yagona", Root: a.hier.Root, Intermediates: []*x509.Certificate{a.hier.Issuing}, Status: ownRecords{a.store}}}
	for _, ea := range a.cfg.IDP.ExternalAnchors {
		roots, err := readCerts(a.cfg.DataPath(ea.Root))
		if err != nil {
			return nil, err
		}
		var inter []*x509.Certificate
		for _, f := range ea.Intermediates {
			cs, err := readCerts(a.cfg.DataPath(f))
			if err != nil {
				return nil, err
			}
			inter = append(inter, cs...)
		}
		an := validation.Anchor{Name: ea.Name, Root: roots[0], Intermediates: inter}
		if ea.Status != "none" {
			an.Status = ocspRecords{&revocation.OCSP{Cache: a.cache}}
		}
		anchors = append(anchors, an)
	}
	return &validation.Validator{Anchors: anchors, Policy: pol}, nil
}

// ownRecords reads our CA's status, with the time of a revocation or
// suspension.
type ownRecords struct{ st store.Store }

func (o ownRecords) Status(ctx context.Context, c, _ *x509.Certificate) (validation.Status, error) {
	rec, err := o.st.GetCertificate(ctx, ca.SerialHex(c.SerialNumber))
	if errors.Is(err, store.ErrNotFound) {
		return validation.Status{State: "unknown", Source: "ca-records"}, nil
	}
	if err != nil {
		return validation.Status{}, fmt.Errorf("certificate records: %w", err)
	}
	if rec.Status == store.StatusGood {
		return validation.Status{State: "good", Source: "ca-records"}, nil
	}
	return validation.Status{State: "revoked", RevokedAt: rec.RevokedAt, Source: "ca-records"}, nil
}

type ocspRecords struct{ o *revocation.OCSP }

func (s ocspRecords) Status(ctx context.Context, c, issuer *x509.Certificate) (validation.Status, error) {
	r, err := s.o.Check(ctx, c, issuer)
	if err != nil {
		return validation.Status{}, err
	}
	return validation.Status{State: r.Status, RevokedAt: r.RevokedAt, Source: "ocsp"}, nil
}

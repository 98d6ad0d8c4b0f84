package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// RecordState is the trust vocabulary's word for a record's status: a
// certificate on hold is suspended.
func RecordState(s store.Status) trust.State {
	switch s {
	case store.StatusGood:
		return trust.Good
	case store.StatusHold:
		return trust.Suspended
	case store.StatusRevoked:
		return trust.Revoked
	}
	return trust.Unknown
}

// recordStatus is the status our records give a certificate.
func recordStatus(c store.Certificate) trust.Status {
	st := trust.Status{State: RecordState(c.Status), Source: trust.SourceRecords}
	if st.State == trust.Revoked || st.State == trust.Suspended {
		st.Time, st.Reason = c.RevokedAt, trust.Reason(c.Reason)
	}
	return st
}

// Status implements trust.StatusSource for our own certificates, read
// from the records: a serial we never issued (or another issuer's) is
// unknown.
func (a *Authority) Status(ctx context.Context, cert, _ *x509.Certificate) (trust.Status, error) {
	unknown := trust.Status{State: trust.Unknown, Source: trust.SourceRecords}
	c, err := a.st.GetCertificate(ctx, SerialHex(cert.SerialNumber))
	if err != nil {
		if AsError(storeErr(err, "")).Kind == KindNotFound {
			return unknown, nil
		}
		return trust.Status{}, fmt.Errorf("ca: certificate records: %w", err)
	}
	if c.Issuer != a.cfg.Issuer.Name {
		return unknown, nil
	}
	return recordStatus(c), nil
}

// OCSPStatus answers the OCSP responder from the store.
func (a *Authority) OCSPStatus(ctx context.Context, serial *big.Int) (responder.CertStatus, error) {
	c, err := a.st.GetCertificate(ctx, SerialHex(serial))
	if err != nil {
		if AsError(storeErr(err, "")).Kind == KindNotFound {
			return responder.CertStatus{Status: responder.Unknown}, nil
		}
		return responder.CertStatus{}, err
	}
	if c.Issuer != a.cfg.Issuer.Name {
		return responder.CertStatus{Status: responder.Unknown}, nil
	}
	return ocspStatus(c), nil
}

// ocspStatus is what OCSP answers for a certificate on record: the trust
// table's OCSP row (a suspension is revoked with certificateHold).
func ocspStatus(c store.Certificate) responder.CertStatus {
	st := recordStatus(c)
	status, reason := trust.OCSPAnswer(st)
	if status != responder.Revoked {
		return responder.CertStatus{Status: status}
	}
	return responder.CertStatus{Status: status, RevokedAt: st.Time, Reason: int(reason)}
}

// holderTrust is the verifier of holders' TLS client certificates: an
// anchor per root, with the issuing CA under the root it chains to.
func holderTrust(cfg Config) (*trust.Verifier, error) {
	certs := append(append([]*x509.Certificate{}, cfg.Roots...), cfg.Issuer.Cert)
	tv, err := trust.VerifierFrom(certs, func(i int, r *x509.Certificate) string { return fmt.Sprintf("root %d: %s", i+1, r.Subject.CommonName) })
	if err != nil {
		return nil, fmt.Errorf("ca: roots: %w", err)
	}
	return tv, nil
}

package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// Issued is a new certificate with its chain (issuing CA, excluding the
// root).
type Issued struct {
	Cert    *x509.Certificate
	Chain   []*x509.Certificate
	Profile string
}

// Enroll redeems an enrollment code for a certificate on the key of a
// PEM CSR. The subject comes from the registration record only.
func (a *Authority) Enroll(ctx context.Context, csrPEM []byte, codeText string) (*Issued, error) {
	code, ok := parseEnrollmentCode(codeText)
	if !ok {
		return nil, newErr(KindUnauthorized, "invalid_code", "enrollment code is not valid", nil)
	}
	start := time.Now()
	csr, err := ParseCSR(csrPEM)
	a.m.since(StageCSRCheck, start)
	if err != nil {
		return nil, err
	}
	e, err := a.checkCode(ctx, code)
	if err != nil {
		return nil, err
	}
	prof, ok := a.cfg.Profiles[e.Profile]
	if !ok {
		return nil, newErr(KindConflict, "unknown_profile", "the enrollment's profile is no longer offered; ask the registration officer for a new enrollment", nil)
	}
	subj, err := a.subjectFor(ctx, prof, e.PINFL, e.TIN, e.Title)
	if err != nil {
		return nil, err
	}
	return a.issue(ctx, prof, subj, csr, store.Certificate{PINFL: e.PINFL, Profile: prof.Name, EnrollmentID: e.ID}, e.ID,
		a.auditEvent(Actor{ID: "enrollment:" + e.ID, PINFL: e.PINFL}, "certificate.issue", "",
			fmt.Sprintf(`{"profile":%q,"pinfl":%q,"enrollment":%q}`, prof.Name, e.PINFL, e.ID)))
}

// checkCode finds the enrollment and proves the code, counting failures.
// A locked enrollment refuses every attempt, right or wrong (so a guesser
// learns only to stop); otherwise the secret is checked before whether the
// code was used or has expired is revealed.
func (a *Authority) checkCode(ctx context.Context, code enrollmentCode) (store.Enrollment, error) {
	e, err := a.st.GetEnrollment(ctx, code.ID)
	if errors.Is(err, store.ErrNotFound) {
		return e, newErr(KindUnauthorized, "invalid_code", "enrollment code is not valid", nil)
	}
	if err != nil {
		return e, storeErr(err, "enrollment")
	}
	if e.Locked {
		return e, newErr(KindRateLimited, "too_many_attempts", "too many wrong codes; ask the registration officer for a new enrollment", nil)
	}
	now := a.now()
	if !code.matches(e.CodeHash) {
		// The counter lives as long as the code could still be used.
		n, err := a.attempts.Incr(ctx, "enroll-fail:"+e.ID, max(e.ExpiresAt.Sub(now), time.Minute))
		if err != nil {
			return e, newErr(KindUnavailable, "unavailable", "attempt counter is not available", err)
		}
		if n >= int64(e.MaxAttempts) {
			if err := a.st.LockEnrollment(ctx, e.ID); err != nil {
				return e, storeErr(err, "enrollment")
			}
			a.audit(ctx, System, "enrollment.lock", e.PINFL, fmt.Sprintf(`{"enrollment":%q}`, e.ID))
			return e, newErr(KindRateLimited, "too_many_attempts", "too many wrong codes; ask the registration officer for a new enrollment", nil)
		}
		return e, newErr(KindUnauthorized, "invalid_code", "enrollment code is not valid", nil)
	}
	switch {
	case !e.UsedAt.IsZero():
		return e, newErr(KindConflict, "code_used", "enrollment code was used already", nil)
	case !now.Before(e.ExpiresAt):
		return e, newErr(KindForbidden, "code_expired", "enrollment code has expired", nil)
	}
	return e, nil
}

// subjectFor builds the subject from the registration records.
func (a *Authority) subjectFor(ctx context.Context, prof Profile, pinfl, tin, title string) ([]byte, error) {
	p, err := a.st.GetPerson(ctx, pinfl)
	if err != nil {
		return nil, storeErr(err, "person")
	}
	var org *store.Organization
	if prof.Organization {
		o, err := a.st.GetOrganization(ctx, tin)
		if err != nil {
			return nil, storeErr(err, "organization")
		}
		org = &o
	}
	var subj []byte
	switch {
	case prof.Service:
		subj, err = serviceSubject(*org, title)
	case prof.Title:
		subj, err = subject(p, org, title)
	default:
		subj, err = subject(p, org, "")
	}
	if err != nil {
		return nil, internal("subject", err)
	}
	return subj, nil
}

// issue prepares (lints), signs and records a certificate with its audit
// event (whose Subject becomes the serial) in one transaction. A serial
// collision is retried with a fresh serial; a lost race for the enrollment
// discards the signed certificate, which was never published.
func (a *Authority) issue(ctx context.Context, prof Profile, subj []byte, csr *x509.CertificateRequest, rec store.Certificate, enrollmentID string, ev store.AuditEvent) (*Issued, error) {
	iss := a.cfg.Issuer
	for range 3 {
		now := a.now()
		tmpl, shard, err := a.leafTemplate(prof, subj, csr.PublicKey, now)
		if err != nil {
			return nil, internal("template", err)
		}
		rec.CRLShard = shard
		start := time.Now()
		prep, err := iss.Prepare(tmpl, csr.PublicKey)
		a.m.since(StageLint, start)
		if err != nil {
			a.log.ErrorContext(ctx, "issuance refused by lint", "profile", prof.Name, "err", err)
			return nil, newErr(KindInternal, "lint_failed", "the certificate failed pre-issuance checks; the operator has been told", err)
		}
		start = time.Now()
		cert, err := iss.Issue(prep)
		a.m.since(StageSign, start)
		if err != nil {
			return nil, internal("sign", err)
		}
		rec.Serial = SerialHex(cert.SerialNumber)
		rec.Issuer = iss.Name
		rec.NotBefore, rec.NotAfter = cert.NotBefore, cert.NotAfter
		rec.DER = cert.Raw
		rec.Status = store.StatusGood
		rec.CreatedAt = now
		ev.Subject = rec.Serial
		start = time.Now()
		err = a.st.IssueCertificate(ctx, rec, enrollmentID, now, ev)
		a.m.since(StageStore, start)
		switch {
		case err == nil:
			a.logAudit(ctx, ev)
			return &Issued{Cert: cert, Chain: []*x509.Certificate{iss.Cert}, Profile: prof.Name}, nil
		case errors.Is(err, store.ErrAlreadyExists):
			a.log.WarnContext(ctx, "serial collision, retrying", "serial", rec.Serial)
			continue
		case errors.Is(err, store.ErrConflict):
			a.log.InfoContext(ctx, "enrollment claimed concurrently; signed certificate discarded", "serial", rec.Serial, "enrollment", enrollmentID)
			return nil, newErr(KindConflict, "code_used", "enrollment code was used already", err)
		default:
			return nil, storeErr(err, "certificate")
		}
	}
	return nil, internal("serial collisions", nil)
}

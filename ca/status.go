package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// RFC 5280 §5.3.1 CRLReason values.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonPrivilegeWithdrawn   = 9
)

// ReasonNames maps the reasons a revocation may give to their RFC 5280
// names. cACompromise and aACompromise do not apply to end-entity
// certificates, certificateHold is Suspend, and removeFromCRL is Resume.
var ReasonNames = map[int]string{
	ReasonUnspecified:          "unspecified",
	ReasonKeyCompromise:        "keyCompromise",
	ReasonAffiliationChanged:   "affiliationChanged",
	ReasonSuperseded:           "superseded",
	ReasonCessationOfOperation: "cessationOfOperation",
	ReasonCertificateHold:      "certificateHold",
	ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
}

// ParseReason accepts a reason by RFC 5280 name.
func ParseReason(name string) (int, error) {
	if name == "" {
		return ReasonUnspecified, nil
	}
	for code, n := range ReasonNames {
		if n == name && code != ReasonCertificateHold {
			return code, nil
		}
	}
	return 0, invalid("bad_reason", "unknown revocation reason %q", name)
}

// Certificate returns a certificate record. A holder may only read their own.
func (a *Authority) Certificate(ctx context.Context, actor Actor, serial string) (store.Certificate, error) {
	c, err := a.certificate(ctx, serial)
	if err != nil {
		return c, err
	}
	if err := authorize(actor, c); err != nil {
		return store.Certificate{}, err
	}
	return c, nil
}

func (a *Authority) certificate(ctx context.Context, serial string) (store.Certificate, error) {
	n, err := ParseSerial(serial)
	if err != nil {
		return store.Certificate{}, err
	}
	c, err := a.st.GetCertificate(ctx, SerialHex(n))
	if err != nil {
		return c, storeErr(err, "certificate")
	}
	return c, nil
}

// Certificates lists a person's certificates.
func (a *Authority) Certificates(ctx context.Context, actor Actor, pinfl string) ([]store.Certificate, error) {
	if !ValidPINFL(pinfl) {
		return nil, invalid("invalid_pinfl", "pinfl must be exactly 14 digits")
	}
	if !actor.Admin && actor.PINFL != pinfl {
		return nil, newErr(KindForbidden, "forbidden", "holders may list only their own certificates", nil)
	}
	cs, err := a.st.ListCertificates(ctx, pinfl)
	if err != nil {
		return nil, storeErr(err, "certificates")
	}
	return cs, nil
}

func authorize(actor Actor, c store.Certificate) error {
	if actor.Admin || (actor.PINFL != "" && actor.PINFL == c.PINFL) || (actor.ID != "" && actor.ID == c.Serial) {
		return nil
	}
	// A holder learns nothing about certificates that are not theirs, not
	// even that the serial exists.
	return newErr(KindNotFound, "not_found", "certificate not found", nil)
}

// Revoke revokes a good or suspended certificate for reason.
func (a *Authority) Revoke(ctx context.Context, actor Actor, serial string, reason int) (store.Certificate, error) {
	if _, ok := ReasonNames[reason]; !ok || reason == ReasonCertificateHold {
		return store.Certificate{}, invalid("bad_reason", "reason %d is not allowed; use suspend for certificateHold", reason)
	}
	if !actor.Admin && reason == ReasonPrivilegeWithdrawn {
		return store.Certificate{}, newErr(KindForbidden, "forbidden", "only an officer may withdraw privileges", nil)
	}
	return a.changeStatus(ctx, actor, serial, "certificate.revoke", store.StatusChange{
		From: []store.Status{store.StatusGood, store.StatusHold}, To: store.StatusRevoked, Reason: reason})
}

// Suspend puts a good certificate on hold (certificateHold).
func (a *Authority) Suspend(ctx context.Context, actor Actor, serial string) (store.Certificate, error) {
	return a.changeStatus(ctx, actor, serial, "certificate.suspend", store.StatusChange{
		From: []store.Status{store.StatusGood}, To: store.StatusHold, Reason: ReasonCertificateHold})
}

// Resume lifts a suspension. Only an officer may: a holder can suspend in
// an emergency, but lifting it needs the holder's identity checked again.
func (a *Authority) Resume(ctx context.Context, actor Actor, serial string) (store.Certificate, error) {
	if !actor.Admin {
		return store.Certificate{}, newErr(KindForbidden, "forbidden", "only a registration officer may lift a suspension", nil)
	}
	return a.changeStatus(ctx, actor, serial, "certificate.resume", store.StatusChange{
		From: []store.Status{store.StatusHold}, To: store.StatusGood})
}

func (a *Authority) changeStatus(ctx context.Context, actor Actor, serial, action string, ch store.StatusChange) (store.Certificate, error) {
	cur, err := a.certificate(ctx, serial)
	if err != nil {
		return cur, err
	}
	if err := authorize(actor, cur); err != nil {
		return store.Certificate{}, err
	}
	if cur.Profile != "" {
		if p, ok := a.cfg.Profiles[cur.Profile]; ok && p.System && !actor.Admin {
			return store.Certificate{}, newErr(KindForbidden, "forbidden", "system certificates are managed by operators", nil)
		}
	}
	ch.Serial = cur.Serial
	ch.At = a.now()
	if ch.To != store.StatusGood {
		ch.RevokedAt = a.now()
	}
	c, err := a.st.UpdateStatus(ctx, ch)
	if err != nil {
		if e := storeErr(err, "certificate"); AsError(e).Code == "conflict" {
			return c, newErr(KindConflict, "bad_status", fmt.Sprintf("certificate is %s", cur.Status), err)
		}
		return c, storeErr(err, "certificate")
	}
	n, _ := ParseSerial(c.Serial)
	if a.cfg.OnStatusChange != nil {
		a.cfg.OnStatusChange(ctx, n)
	}
	a.audit(ctx, actor, action, c.Serial, fmt.Sprintf(`{"status":%q,"reason":%d}`, c.Status, c.Reason))
	a.reissueCRLs(ctx, c)
	return c, nil
}

// AuthenticateHolder verifies a TLS client certificate chain (leaf first) as
// proof that the caller holds a good certificate of ours: it must chain to
// our roots at the current time for TLS client authentication
// (trust.TLSClient), be on record and pass a login by its status (the
// trust table: good only).
func (a *Authority) AuthenticateHolder(ctx context.Context, chain []*x509.Certificate) (Actor, store.Certificate, error) {
	fail := func(msg string, err error) (Actor, store.Certificate, error) {
		return Actor{}, store.Certificate{}, newErr(KindUnauthorized, "bad_client_certificate", msg, err)
	}
	if len(chain) == 0 {
		return fail("a client certificate is required", nil)
	}
	if _, err := a.trust.Verify(chain[0], chain[1:], trust.TLSClient, a.now()); err != nil {
		return fail("client certificate does not verify", err)
	}
	rec, err := a.st.GetCertificate(ctx, SerialHex(chain[0].SerialNumber))
	if err != nil {
		if AsError(storeErr(err, "")).Kind == KindNotFound {
			return fail("client certificate is not on record", err)
		}
		return Actor{}, store.Certificate{}, storeErr(err, "certificate")
	}
	st := recordStatus(rec)
	if rule := trust.RuleFor(trust.UseLogin, st.State); rule.Decide(st, time.Time{}, false) != trust.Pass {
		return fail("client certificate is "+rule.Word, nil)
	}
	if p, ok := a.cfg.Profiles[rec.Profile]; !ok || p.System {
		return fail("client certificate is not a holder's certificate", nil)
	} else if p.Service {
		// A service certificate speaks for itself only, not for the person
		// responsible for it.
		return Actor{ID: rec.Serial}, rec, nil
	}
	return Actor{ID: rec.Serial, PINFL: rec.PINFL}, rec, nil
}

// Renew issues a new certificate for the same person and profile to a
// holder authenticated by AuthenticateHolder. The new key must differ from
// the current one.
func (a *Authority) Renew(ctx context.Context, holder *x509.Certificate, rec store.Certificate, csrPEM []byte) (*Issued, error) {
	start := time.Now()
	csr, err := ParseCSR(csrPEM)
	a.m.since(StageCSRCheck, start)
	if err != nil {
		return nil, err
	}
	if publicKeysEqual(holder.PublicKey, csr.PublicKey) {
		return nil, invalid("key_reuse", "renewal needs a new key")
	}
	prof, ok := a.cfg.Profiles[rec.Profile]
	if !ok || !prof.Renewable {
		return nil, newErr(KindForbidden, "not_renewable", "certificates of this profile cannot be renewed by their holder", nil)
	}
	tin, title := subjectAttrs(holder.Subject)
	if prof.Service {
		title = holder.Subject.CommonName
	}
	subj, err := a.subjectFor(ctx, prof, rec.PINFL, tin, title)
	if err != nil {
		return nil, err
	}
	return a.issue(ctx, prof, subj, csr, store.Certificate{PINFL: rec.PINFL, Profile: prof.Name, RenewedFrom: rec.Serial}, "",
		a.auditEvent(Actor{ID: rec.Serial, PINFL: rec.PINFL}, "certificate.renew", "",
			fmt.Sprintf(`{"profile":%q,"renewed_from":%q}`, prof.Name, rec.Serial)))
}

// reissueCRLs reissues the CRLs that list c: its shard's and the full one.
func (a *Authority) reissueCRLs(ctx context.Context, c store.Certificate) {
	for _, shard := range slices.Compact([]int64{0, c.CRLShard}) {
		if _, err := a.IssueCRL(ctx, shard); err != nil {
			// The change is committed and OCSP already answers it; the CRL
			// job retries at its next tick (every minute), and the status
			// sweep on the job leader notices too.
			a.crlDirty.Store(shard, struct{}{})
			a.log.ErrorContext(ctx, "crl reissue after status change failed", "serial", c.Serial, "shard", shard, "err", err)
		}
	}
}

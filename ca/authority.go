// Package ca is Yagona's certificate authority: registration of people and
// organizations, enrollment codes, issuance under configurable profiles
// (RFC 5280, ETSI EN 319 412 semantic identifiers), renewal, revocation and
// suspension, and CRLs. Certificates are linted with zlint before the CA key
// signs them. The OCSP responder lives in ca/responder and learns status
// changes through OCSPStatus and the status hook. The Authority is also
// the trust component's status source for our own certificates (Status):
// a certificate on hold is suspended in the trust vocabulary, and OCSP
// answers it from the same mapping.
//
// The package knows nothing of HTTP: errors carry a Kind that the HTTP layer
// maps to status codes.
package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// Store is the durable state the CA needs; pkg/store satisfies it.
type Store interface {
	CreatePerson(ctx context.Context, p store.Person) error
	GetPerson(ctx context.Context, pinfl string) (store.Person, error)
	PutOrganization(ctx context.Context, o store.Organization) error
	GetOrganization(ctx context.Context, tin string) (store.Organization, error)
	CreateEnrollment(ctx context.Context, e store.Enrollment) error
	GetEnrollment(ctx context.Context, id string) (store.Enrollment, error)
	LockEnrollment(ctx context.Context, id string) error
	IssueCertificate(ctx context.Context, c store.Certificate, enrollmentID string, now time.Time, audit store.AuditEvent) error
	GetCertificate(ctx context.Context, serial string) (store.Certificate, error)
	ListCertificates(ctx context.Context, pinfl string) ([]store.Certificate, error)
	UpdateStatus(ctx context.Context, ch store.StatusChange) (store.Certificate, error)
	RevokedCertificates(ctx context.Context, issuer string, shard int64, now time.Time) ([]store.Revoked, error)
	CertificateStatuses(ctx context.Context, issuer, after string, limit int, now time.Time) ([]store.Certificate, error)
	StatusChanges(ctx context.Context, issuer string, since time.Time, limit int) ([]store.Certificate, error)
	NextCRLNumber(ctx context.Context, issuer string) (int64, error)
	SaveCRL(ctx context.Context, c store.CRL) error
	LatestCRL(ctx context.Context, issuer string, shard int64) (store.CRL, error)
	ListCRLs(ctx context.Context, issuer string) ([]store.CRL, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) error
}

// Counter counts failed attempts; pkg/cache satisfies it.
type Counter interface {
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Config configures an Authority. Zero durations take the defaults noted.
type Config struct {
	Issuer        *Issuer
	Roots         []*x509.Certificate // trust anchors for holder authentication
	Profiles      map[string]Profile
	URLs          URLs
	EnrollmentTTL time.Duration // default 7 days
	MaxAttempts   int           // wrong codes before an enrollment locks; default 5
	CRLValidity   time.Duration // nextUpdate - thisUpdate; default 24h
	// CRLShardWidth splits the CRL by certificate expiry: a certificate
	// whose NotAfter falls in the n-th window of this width since 1970
	// names CRL shard n in its distribution point. Zero: one CRL.
	CRLShardWidth time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer // nil: metrics are kept but not exported
	// OnStatusChange is called after a status change is committed, before
	// the CRL is reissued (the OCSP responder drops its cached answer).
	OnStatusChange func(ctx context.Context, serial *big.Int)
}

// Authority is the certificate authority service.
type Authority struct {
	cfg      Config
	st       Store
	attempts Counter
	now      func() time.Time
	log      *slog.Logger
	trust    *trust.Verifier // holders' TLS client certificates
	crlMu    sync.Mutex
	crlDirty sync.Map // int64 shard -> struct{}: a status change whose CRL reissue failed
	m        *metrics
}

// New checks cfg and returns an Authority.
func New(cfg Config, st Store, attempts Counter) (*Authority, error) {
	if cfg.Issuer == nil {
		return nil, errors.New("ca: config has no issuer")
	}
	if len(cfg.Profiles) == 0 {
		return nil, errors.New("ca: config has no profiles")
	}
	var errs []error
	for name, p := range cfg.Profiles {
		if p.Name != name {
			errs = append(errs, fmt.Errorf("ca: profile %q is named %q", name, p.Name))
		}
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.EnrollmentTTL == 0 {
		cfg.EnrollmentTTL = 7 * 24 * time.Hour
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.CRLValidity == 0 {
		cfg.CRLValidity = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("ca: metrics: %w", err)
	}
	holders, err := holderTrust(cfg)
	if err != nil {
		return nil, err
	}
	return &Authority{cfg: cfg, st: st, attempts: attempts, now: cfg.Now, log: cfg.Logger, trust: holders, m: m}, nil
}

// Issuer returns the issuing CA.
func (a *Authority) Issuer() *Issuer { return a.cfg.Issuer }

// Actor is who asks for a change: an operator or a certificate holder.
type Actor struct {
	Admin bool
	ID    string // credential id for an operator, certificate serial for a holder
	PINFL string // the holder's PINFL
}

func (a Actor) String() string {
	if a == System {
		return "system"
	}
	if a.Admin {
		return "admin:" + a.ID
	}
	return "holder:" + a.ID
}

// System is the actor for what the CA does by itself.
var System = Actor{Admin: true, ID: "system"}

func (a *Authority) audit(ctx context.Context, actor Actor, action, subject, details string) {
	ev := a.auditEvent(actor, action, subject, details)
	if err := a.st.AppendAudit(ctx, ev); err != nil {
		a.log.ErrorContext(ctx, "audit append failed", "action", action, "subject", subject, "err", err)
	}
	a.logAudit(ctx, ev)
}

func (a *Authority) auditEvent(actor Actor, action, subject, details string) store.AuditEvent {
	return store.AuditEvent{Time: a.now(), Actor: actor.String(), Action: action, Subject: subject, Details: details}
}

// logAudit mirrors an audit event into the structured log.
func (a *Authority) logAudit(ctx context.Context, ev store.AuditEvent) {
	a.log.InfoContext(ctx, "audit", "actor", ev.Actor, "action", ev.Action, "subject", ev.Subject, "details", ev.Details)
}

// storeErr maps store sentinels to domain errors.
func storeErr(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newErr(KindNotFound, "not_found", what+" not found", err)
	case errors.Is(err, store.ErrAlreadyExists):
		return newErr(KindConflict, "already_exists", what+" already exists", err)
	case errors.Is(err, store.ErrConflict):
		return newErr(KindConflict, "conflict", what+" is in a state that does not allow this", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newErr(KindUnavailable, "unavailable", "request cancelled or timed out", err)
	}
	return newErr(KindUnavailable, "unavailable", "storage is not available", err)
}

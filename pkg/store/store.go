// Package store keeps Yagona's durable state: people, organizations,
// enrollments, certificates and their status, CRL numbers, the audit
// trail, and the identity provider's clients, refresh-token families,
// signing keys and consents.
//
// One SQL code path (database/sql) runs on two databases: SQLite through the
// pure-Go modernc.org/sqlite driver (the embedded default, a file in the data
// directory) and PostgreSQL through pgx's stdlib driver. Schema migrations
// are embedded and applied by Migrate (goose). The package-level contract is
// the Store interface; storetest.Run is the conformance suite every backend
// passes.
//
// Times are stored as Unix microseconds in UTC, so both databases compare them
// the same way; values returned are truncated to the microsecond. A zero
// time.Time is stored as 0 and read back as zero (unset), except
// Person.BirthDate, which is always a real date (1970-01-01 included).
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists means a record with the same key exists (a duplicate
	// PINFL, TIN, enrollment id or certificate serial).
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrReused means a refresh token was presented after it had been
	// rotated: its family has been revoked.
	ErrReused = errors.New("store: refresh token reused")
	// ErrConflict means the record exists but is not in a state that allows
	// the change: an enrollment already used, locked or expired, or a
	// certificate status transition that is not allowed.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable is wrapped by every database error that is not one
	// of the above: the database could not be reached, timed out, or
	// refused the statement for a reason of its own. Callers answer 503.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrInvalid means the record handed in breaks a rule of the store
	// (a consent scope with spaces, for example): nothing was written.
	ErrInvalid = errors.New("store: invalid record")
)

// Person is a natural person, identified by the 14-digit PINFL.
type Person struct {
	PINFL      string
	GivenName  string
	Surname    string
	Patronymic string    // may be empty
	BirthDate  time.Time // date only, UTC midnight
	CreatedAt  time.Time
}

// Organization is a legal entity, identified by the 9-digit TIN.
type Organization struct {
	TIN       string
	Name      string
	CreatedAt time.Time
}

// Enrollment authorizes one certificate for a person under a profile. The
// enrollment code's secret is never stored, only CodeHash.
type Enrollment struct {
	ID          string // public part of the enrollment code
	CodeHash    []byte // SHA-256 of the secret part
	PINFL       string
	Profile     string
	TIN         string // organization, for employee and official profiles; else empty
	Title       string // position, for employee and official profiles; else empty
	MaxAttempts int
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UsedAt      time.Time // zero while unused
	Locked      bool      // set when too many wrong codes were tried
	CertSerial  string    // serial issued under it, once used
}

// Status is a certificate's revocation status.
type Status string

// Certificate statuses. A held (suspended) certificate is listed on the CRL
// with reason certificateHold and may return to StatusGood.
const (
	StatusGood    Status = "good"
	StatusRevoked Status = "revoked"
	StatusHold    Status = "hold"
)

// Certificate is an issued certificate and its status.
type Certificate struct {
	Serial       string // lower-case hex, no leading zeros
	Issuer       string // name of the issuing CA that signed it
	PINFL        string // subject's PINFL; empty for system certificates
	Profile      string
	EnrollmentID string // enrollment used; empty for renewals and system certificates
	RenewedFrom  string // serial of the certificate that authorized a renewal
	NotBefore    time.Time
	NotAfter     time.Time
	DER          []byte
	Status       Status
	RevokedAt    time.Time // zero while good
	Reason       int       // RFC 5280 CRLReason; meaningful when Status != good
	CreatedAt    time.Time
	// CRLShard is the CRL shard named in the certificate's CRL
	// distribution point; 0 for the unsharded CRL.
	CRLShard int64
	// StatusChangedAt is when the status last changed; zero if never.
	StatusChangedAt time.Time
}

// StatusChange is a conditional status update: it applies only when the
// certificate's current status is one of From.
type StatusChange struct {
	Serial    string
	From      []Status
	To        Status
	Reason    int       // stored with To; 0 when To is good
	RevokedAt time.Time // stored with To; zero when To is good
	At        time.Time // when the change is made: the certificate's StatusChangedAt
}

// Revoked is one entry of a CRL.
type Revoked struct {
	Serial    string
	RevokedAt time.Time
	Reason    int
}

// CRL is the latest signed CRL of an issuing CA.
type CRL struct {
	Issuer     string
	Shard      int64 // 0: the unsharded CRL
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
}

// Credential is an operator credential; only the hash of its secret is kept.
type Credential struct {
	ID        string
	Role      string // "admin" for now
	Hash      []byte // SHA-256 of the secret
	CreatedAt time.Time
}

// AuditEvent is one entry of the audit trail.
type AuditEvent struct {
	ID      int64 // assigned by the store
	Time    time.Time
	Actor   string // who did it: "admin:<id>", "holder:<serial>", "system"
	Action  string // e.g. "certificate.issue", "certificate.revoke"
	Subject string // what it was done to: a serial, a PINFL
	Details string // JSON object, may be empty
}

// AllShards asks RevokedCertificates for every CRL shard: the full CRL.
const AllShards int64 = -1

// Store is the durable state contract. Every method is safe for concurrent
// use, by goroutines of one process and by several processes on one
// PostgreSQL database.
type Store interface {
	// CreatePerson inserts a person; ErrAlreadyExists if the PINFL exists.
	CreatePerson(ctx context.Context, p Person) error
	// GetPerson returns the person or ErrNotFound.
	GetPerson(ctx context.Context, pinfl string) (Person, error)
	// PutOrganization inserts an organization or updates its name.
	PutOrganization(ctx context.Context, o Organization) error
	// GetOrganization returns the organization or ErrNotFound.
	GetOrganization(ctx context.Context, tin string) (Organization, error)

	// CreateEnrollment inserts an enrollment; ErrAlreadyExists if the ID
	// exists, ErrNotFound if the person does not exist.
	CreateEnrollment(ctx context.Context, e Enrollment) error
	// GetEnrollment returns the enrollment or ErrNotFound.
	GetEnrollment(ctx context.Context, id string) (Enrollment, error)
	// LockEnrollment marks an enrollment locked; ErrNotFound if unknown.
	LockEnrollment(ctx context.Context, id string) error

	// IssueCertificate records an issued certificate. When enrollmentID is
	// not empty it atomically claims that enrollment in the same
	// transaction: the claim succeeds only if the enrollment is unused, not
	// locked and ExpiresAt is after now; otherwise ErrConflict (or
	// ErrNotFound) and nothing is written. A duplicate serial gives
	// ErrAlreadyExists and leaves the enrollment unused. Of any number of
	// concurrent calls for one enrollment, exactly one succeeds. enrollmentID
	// is normally c.EnrollmentID. The certificate is queued for the
	// transparency log in the same transaction. The audit
	// event, when its Action is set, is appended in the same transaction,
	// so no certificate is recorded without its audit entry.
	IssueCertificate(ctx context.Context, c Certificate, enrollmentID string, now time.Time, audit AuditEvent) error
	// GetCertificate returns the certificate or ErrNotFound.
	GetCertificate(ctx context.Context, serial string) (Certificate, error)
	// ListCertificates returns a person's certificates, newest first.
	ListCertificates(ctx context.Context, pinfl string) ([]Certificate, error)
	// UpdateStatus applies a conditional status change and returns the
	// updated certificate: ErrNotFound for an unknown serial, ErrConflict
	// if the current status is not in From (an empty From always conflicts).
	UpdateStatus(ctx context.Context, ch StatusChange) (Certificate, error)
	// RevokedCertificates lists the revoked and held certificates of an
	// issuer in one CRL shard (every shard for AllShards) whose NotAfter
	// is after now, ordered by serial.
	RevokedCertificates(ctx context.Context, issuer string, shard int64, now time.Time) ([]Revoked, error)
	// CertificateStatuses pages through the issuer's certificates whose
	// NotAfter is after now, by serial: up to limit with a serial greater
	// than after (compared as text). Only Serial, Status, RevokedAt,
	// Reason, CRLShard and NotAfter are filled in.
	CertificateStatuses(ctx context.Context, issuer, after string, limit int, now time.Time) ([]Certificate, error)
	// StatusChanges lists the issuer's certificates whose status changed
	// at or after since, oldest change first, at most limit; filled in as
	// by CertificateStatuses, plus StatusChangedAt.
	StatusChanges(ctx context.Context, issuer string, since time.Time, limit int) ([]Certificate, error)

	// NextCRLNumber atomically increments and returns the issuer's CRL
	// number, starting at 1. Numbers only grow, across processes.
	NextCRLNumber(ctx context.Context, issuer string) (int64, error)
	// SaveCRL stores c as the latest CRL of its issuer and shard unless
	// one with a number greater than or equal to c.Number is stored
	// already (then it returns ErrConflict and keeps the newer one).
	SaveCRL(ctx context.Context, c CRL) error
	// LatestCRL returns the latest CRL of the issuer's shard or
	// ErrNotFound.
	LatestCRL(ctx context.Context, issuer string, shard int64) (CRL, error)
	// ListCRLs returns the latest CRL of each of the issuer's shards,
	// without DER, ordered by shard.
	ListCRLs(ctx context.Context, issuer string) ([]CRL, error)

	// CreateCredential inserts an operator credential; ErrAlreadyExists if
	// the ID exists.
	CreateCredential(ctx context.Context, c Credential) error
	// GetCredential returns a credential or ErrNotFound.
	GetCredential(ctx context.Context, id string) (Credential, error)

	// AppendAudit appends an event to the audit trail.
	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit returns up to limit events with ID greater than afterID,
	// oldest first; a limit outside 1..10000 means 10000. IDs are assigned
	// at insert, not at commit, so on PostgreSQL a reader paging by ID can
	// pass over an event whose transaction commits late: use it for
	// browsing, not as an exporter's cursor.
	ListAudit(ctx context.Context, afterID int64, limit int) ([]AuditEvent, error)

	OIDC
	TransLog
	Decisions
	Webhooks
	Leases

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

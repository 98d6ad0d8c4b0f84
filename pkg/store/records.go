package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

func (s *sqlStore) CreatePerson(ctx context.Context, p Person) error {
	_, err := s.exec(ctx, (`INSERT INTO persons (pinfl, given_name, surname, patronymic, birth_date, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), p.PINFL, p.GivenName, p.Surname, p.Patronymic, p.BirthDate.UnixMicro(), micros(p.CreatedAt))
	return mapErr(err)
}

func (s *sqlStore) GetPerson(ctx context.Context, pinfl string) (Person, error) {
	var p Person
	var birth, created int64
	err := s.queryRow(ctx, &s.rs, (`SELECT pinfl, given_name, surname, patronymic, birth_date, created_at
		FROM persons WHERE pinfl = ?`), pinfl).Scan(&p.PINFL, &p.GivenName, &p.Surname, &p.Patronymic, &birth, &created)
	// A birth date is stored without the zero-time convention: 1970-01-01
	// is a real birth date, not an unset one.
	p.BirthDate, p.CreatedAt = time.UnixMicro(birth).UTC(), fromMicros(created)
	return p, mapErr(err)
}

func (s *sqlStore) PutOrganization(ctx context.Context, o Organization) error {
	_, err := s.exec(ctx, (`INSERT INTO organizations (tin, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (tin) DO UPDATE SET name = excluded.name`), o.TIN, o.Name, micros(o.CreatedAt))
	return mapErr(err)
}

func (s *sqlStore) GetOrganization(ctx context.Context, tin string) (Organization, error) {
	var o Organization
	var created int64
	err := s.queryRow(ctx, &s.rs, (`SELECT tin, name, created_at FROM organizations WHERE tin = ?`), tin).
		Scan(&o.TIN, &o.Name, &created)
	o.CreatedAt = fromMicros(created)
	return o, mapErr(err)
}

func (s *sqlStore) CreateEnrollment(ctx context.Context, e Enrollment) error {
	_, err := s.exec(ctx, (`INSERT INTO enrollments (id, code_hash, pinfl, profile, tin, title, max_attempts,
		expires_at, created_at, used_at, locked, cert_serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.ID, e.CodeHash, e.PINFL, e.Profile, e.TIN, e.Title, e.MaxAttempts, micros(e.ExpiresAt), micros(e.CreatedAt),
		micros(e.UsedAt), e.Locked, e.CertSerial)
	return mapErr(err)
}

func (s *sqlStore) GetEnrollment(ctx context.Context, id string) (Enrollment, error) {
	var e Enrollment
	var expires, created, used int64
	err := s.queryRow(ctx, &s.rs, (`SELECT id, code_hash, pinfl, profile, tin, title, max_attempts, expires_at,
		created_at, used_at, locked, cert_serial FROM enrollments WHERE id = ?`), id).
		Scan(&e.ID, &e.CodeHash, &e.PINFL, &e.Profile, &e.TIN, &e.Title, &e.MaxAttempts, &expires, &created, &used, &e.Locked, &e.CertSerial)
	e.ExpiresAt, e.CreatedAt, e.UsedAt = fromMicros(expires), fromMicros(created), fromMicros(used)
	return e, mapErr(err)
}

func (s *sqlStore) LockEnrollment(ctx context.Context, id string) error {
	res, err := s.exec(ctx, (`UPDATE enrollments SET locked = TRUE WHERE id = ?`), id)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const certColumns = `serial, issuer, pinfl, profile, enrollment_id, renewed_from, not_before, not_after, der, status, revoked_at, reason, created_at, crl_shard, status_changed_at`

func scanCert(row rowScanner) (Certificate, error) {
	var c Certificate
	var nb, na, rev, created, changed int64
	var status string
	err := row.Scan(&c.Serial, &c.Issuer, &c.PINFL, &c.Profile, &c.EnrollmentID, &c.RenewedFrom, &nb, &na, &c.DER,
		&status, &rev, &c.Reason, &created, &c.CRLShard, &changed)
	c.NotBefore, c.NotAfter, c.RevokedAt, c.CreatedAt = fromMicros(nb), fromMicros(na), fromMicros(rev), fromMicros(created)
	c.StatusChangedAt = fromMicros(changed)
	c.Status = Status(status)
	return c, mapErr(err)
}

const (
	claimEnrollment = `UPDATE enrollments SET used_at = ?, cert_serial = ?
		WHERE id = ? AND used_at = 0 AND NOT locked AND expires_at > ?`
	enrollmentExists = `SELECT COUNT(*) FROM enrollments WHERE id = ?`
	insertCert       = `INSERT INTO certificates (` + certColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func (s *sqlStore) IssueCertificate(ctx context.Context, c Certificate, enrollmentID string, now time.Time, audit AuditEvent) error {
	st, err := s.prepare(ctx, claimEnrollment, enrollmentExists, insertCert, auditInsert, logQueueInsert)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if enrollmentID != "" {
			res, err := txExec(ctx, tx, st[0], micros(now), c.Serial, enrollmentID, micros(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				var exists int
				if err := tx.StmtContext(ctx, st[1]).QueryRowContext(ctx, enrollmentID).Scan(&exists); err != nil {
					return mapErr(err)
				}
				if exists == 0 {
					return fmt.Errorf("%w: enrollment %s", ErrNotFound, enrollmentID)
				}
				return fmt.Errorf("%w: enrollment %s is used, locked or expired", ErrConflict, enrollmentID)
			}
		}
		_, err := txExec(ctx, tx, st[2], c.Serial, c.Issuer, c.PINFL, c.Profile, c.EnrollmentID, c.RenewedFrom,
			micros(c.NotBefore), micros(c.NotAfter), c.DER, string(c.Status), micros(c.RevokedAt), c.Reason, micros(c.CreatedAt),
			c.CRLShard, micros(c.StatusChangedAt))
		if err != nil {
			return err
		}
		// The transparency log entry, in the same transaction: no
		// certificate is on record without it.
		if _, err := txExec(ctx, tx, st[4], "certificate", c.Serial, c.PINFL, c.DER, micros(now)); err != nil {
			return err
		}
		if audit.Action == "" {
			return nil
		}
		_, err = txExec(ctx, tx, st[3], micros(audit.Time), audit.Actor, audit.Action, audit.Subject, audit.Details)
		return err
	})
}

func (s *sqlStore) GetCertificate(ctx context.Context, serial string) (Certificate, error) {
	return scanCert(s.queryRow(ctx, &s.rs, (`SELECT ` + certColumns + ` FROM certificates WHERE serial = ?`), serial))
}

func (s *sqlStore) ListCertificates(ctx context.Context, pinfl string) ([]Certificate, error) {
	rows, err := s.query(ctx, (`SELECT ` + certColumns + ` FROM certificates WHERE pinfl = ?
		ORDER BY created_at DESC, serial`), pinfl)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		c, err := scanCert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) UpdateStatus(ctx context.Context, ch StatusChange) (Certificate, error) {
	if len(ch.From) == 0 {
		return Certificate{}, fmt.Errorf("%w: no allowed current status", ErrConflict)
	}
	args := []any{string(ch.To), ch.Reason, micros(ch.RevokedAt), micros(ch.At), ch.Serial}
	marks := make([]string, len(ch.From))
	for i, f := range ch.From {
		marks[i] = "?"
		args = append(args, string(f))
	}
	c, err := scanCert(s.queryRow(ctx, &s.ws, (`UPDATE certificates SET status = ?, reason = ?, revoked_at = ?, status_changed_at = ?
		WHERE serial = ? AND status IN (` + strings.Join(marks, ", ") + `) RETURNING ` + certColumns), args...))
	if errors.Is(err, ErrNotFound) {
		if _, err := s.GetCertificate(ctx, ch.Serial); err != nil {
			return Certificate{}, err
		}
		return Certificate{}, fmt.Errorf("%w: certificate %s is not in an allowed status", ErrConflict, ch.Serial)
	}
	return c, err
}

func (s *sqlStore) RevokedCertificates(ctx context.Context, issuer string, shard int64, now time.Time) ([]Revoked, error) {
	q, args := `SELECT serial, revoked_at, reason FROM certificates
		WHERE issuer = ? AND crl_shard = ? AND status <> 'good' AND not_after > ? ORDER BY serial`, []any{issuer, shard, micros(now)}
	if shard == AllShards {
		q, args = `SELECT serial, revoked_at, reason FROM certificates
		WHERE issuer = ? AND status <> 'good' AND not_after > ? ORDER BY serial`, []any{issuer, micros(now)}
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Revoked
	for rows.Next() {
		var r Revoked
		var at int64
		if err := rows.Scan(&r.Serial, &at, &r.Reason); err != nil {
			return nil, mapErr(err)
		}
		r.RevokedAt = fromMicros(at)
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

const statusColumns = `serial, status, revoked_at, reason, crl_shard, not_after, status_changed_at`

func (s *sqlStore) statusRows(ctx context.Context, query string, args ...any) ([]Certificate, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var status string
		var rev, na, changed int64
		if err := rows.Scan(&c.Serial, &status, &rev, &c.Reason, &c.CRLShard, &na, &changed); err != nil {
			return nil, mapErr(err)
		}
		c.Status, c.RevokedAt, c.NotAfter, c.StatusChangedAt = Status(status), fromMicros(rev), fromMicros(na), fromMicros(changed)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) CertificateStatuses(ctx context.Context, issuer, after string, limit int, now time.Time) ([]Certificate, error) {
	if limit < 1 || limit > 10000 {
		limit = 10000
	}
	return s.statusRows(ctx, `SELECT `+statusColumns+` FROM certificates
		WHERE serial > ? AND issuer = ? AND not_after > ? ORDER BY serial LIMIT ?`, after, issuer, micros(now), limit)
}

func (s *sqlStore) StatusChanges(ctx context.Context, issuer string, since time.Time, limit int) ([]Certificate, error) {
	if limit < 1 || limit > 10000 {
		limit = 10000
	}
	return s.statusRows(ctx, `SELECT `+statusColumns+` FROM certificates
		WHERE issuer = ? AND status_changed_at > 0 AND status_changed_at >= ? ORDER BY status_changed_at, serial LIMIT ?`,
		issuer, micros(since), limit)
}

func (s *sqlStore) NextCRLNumber(ctx context.Context, issuer string) (int64, error) {
	var n int64
	err := s.queryRow(ctx, &s.ws, (`INSERT INTO crl_numbers (issuer, number) VALUES (?, 1)
		ON CONFLICT (issuer) DO UPDATE SET number = crl_numbers.number + 1 RETURNING number`), issuer).Scan(&n)
	return n, mapErr(err)
}

func (s *sqlStore) SaveCRL(ctx context.Context, c CRL) error {
	res, err := s.exec(ctx, (`INSERT INTO crl_shards (issuer, shard, number, this_update, next_update, der) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, shard) DO UPDATE SET number = excluded.number, this_update = excluded.this_update,
		next_update = excluded.next_update, der = excluded.der WHERE crl_shards.number < excluded.number`),
		c.Issuer, c.Shard, c.Number, micros(c.ThisUpdate), micros(c.NextUpdate), c.DER)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: a crl numbered %d or higher is stored", ErrConflict, c.Number)
	}
	return nil
}

func (s *sqlStore) LatestCRL(ctx context.Context, issuer string, shard int64) (CRL, error) {
	var c CRL
	var tu, nu int64
	err := s.queryRow(ctx, &s.rs, (`SELECT issuer, shard, number, this_update, next_update, der FROM crl_shards WHERE issuer = ? AND shard = ?`), issuer, shard).
		Scan(&c.Issuer, &c.Shard, &c.Number, &tu, &nu, &c.DER)
	c.ThisUpdate, c.NextUpdate = fromMicros(tu), fromMicros(nu)
	return c, mapErr(err)
}

func (s *sqlStore) ListCRLs(ctx context.Context, issuer string) ([]CRL, error) {
	rows, err := s.query(ctx, `SELECT issuer, shard, number, this_update, next_update FROM crl_shards WHERE issuer = ? ORDER BY shard`, issuer)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []CRL
	for rows.Next() {
		var c CRL
		var tu, nu int64
		if err := rows.Scan(&c.Issuer, &c.Shard, &c.Number, &tu, &nu); err != nil {
			return nil, mapErr(err)
		}
		c.ThisUpdate, c.NextUpdate = fromMicros(tu), fromMicros(nu)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) CreateCredential(ctx context.Context, c Credential) error {
	_, err := s.exec(ctx, (`INSERT INTO credentials (id, role, hash, created_at) VALUES (?, ?, ?, ?)`),
		c.ID, c.Role, c.Hash, micros(c.CreatedAt))
	return mapErr(err)
}

func (s *sqlStore) GetCredential(ctx context.Context, id string) (Credential, error) {
	var c Credential
	var created int64
	err := s.queryRow(ctx, &s.rs, (`SELECT id, role, hash, created_at FROM credentials WHERE id = ?`), id).
		Scan(&c.ID, &c.Role, &c.Hash, &created)
	c.CreatedAt = fromMicros(created)
	return c, mapErr(err)
}

func (s *sqlStore) AppendAudit(ctx context.Context, e AuditEvent) error {
	_, err := s.exec(ctx, auditInsert, micros(e.Time), e.Actor, e.Action, e.Subject, e.Details)
	return mapErr(err)
}

const auditInsert = `INSERT INTO audit (time, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)`

func (s *sqlStore) ListAudit(ctx context.Context, afterID int64, limit int) ([]AuditEvent, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := s.query(ctx, (`SELECT id, time, actor, action, subject, details FROM audit
		WHERE id > ? ORDER BY id LIMIT ?`), afterID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.Subject, &e.Details); err != nil {
			return nil, mapErr(err)
		}
		e.Time = fromMicros(t)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Decision states. Nothing about a decision is ever deleted.
const (
	DecisionPending   = "pending"
	DecisionFinal     = "final"
	DecisionRejected  = "rejected"
	DecisionExpired   = "expired"
	DecisionWithdrawn = "withdrawn"
)

// Decision is a document that named officials must sign.
type Decision struct {
	ID            string
	ClientID      string // the service that registered it
	Title         string
	DocSHA256     []byte
	DocSize       int64
	Document      []byte // nil when only the hash was registered
	Policy        []byte // JSON, the signing policy (opaque to the store)
	State         string
	Signatures    int
	Deadline      time.Time
	WebhookURL    string
	WebhookSecret string
	Combined      []byte // the combined CMS, once final
	Reason        string // why rejected, withdrawn or expired
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinalAt       time.Time
}

// DecisionSignature is one official's signature on a decision.
type DecisionSignature struct {
	DecisionID string
	Seq        int    // 0, 1, ...: the order of arrival
	PINFL      string // the signer
	Slot       int    // the required signer of the policy it fills
	Signature  []byte // detached CMS over the document
	Report     []byte // the validation report (JSON) made on arrival
	CreatedAt  time.Time
}

// Decisions is the decision workflow's part of the Store.
type Decisions interface {
	// CreateDecision inserts a pending decision; ErrAlreadyExists for a
	// duplicate id.
	CreateDecision(ctx context.Context, d Decision) error
	// GetDecision returns a decision (with its document and combined CMS)
	// or ErrNotFound.
	GetDecision(ctx context.Context, id string) (Decision, error)
	// ListDecisions returns up to limit decisions in state, oldest first,
	// without documents.
	ListDecisions(ctx context.Context, state string, limit int) ([]Decision, error)
	// DecisionSignatures returns a decision's signatures in order.
	DecisionSignatures(ctx context.Context, id string) ([]DecisionSignature, error)
	// AddDecisionSignature adds s as signature number s.Seq, only if the
	// decision is pending with exactly s.Seq signatures (ErrConflict
	// otherwise; ErrAlreadyExists if this person signed already). With
	// combined non-nil the decision becomes final in the same transaction,
	// and its log entry (kind "decision", logData) is queued with it, as is
	// hook (if not nil) in the webhook outbox.
	AddDecisionSignature(ctx context.Context, s DecisionSignature, combined, logData []byte, audit AuditEvent, hook *Webhook) error
	// SetDecisionState moves a decision from one of from to state with a
	// reason, queueing hook (if not nil) in the same transaction;
	// ErrConflict if it is in none of from, ErrNotFound if absent.
	SetDecisionState(ctx context.Context, id string, from []string, state, reason string, now time.Time, hook *Webhook) error
}

const decisionCols = `id, client_id, title, doc_sha256, doc_size, policy, state, signatures, deadline, webhook_url, webhook_secret, reason, created_at, updated_at, final_at`

func scanDecision(r rowScanner, extra ...any) (Decision, error) {
	var d Decision
	var dl, c, u, f int64
	dest := append([]any{&d.ID, &d.ClientID, &d.Title, &d.DocSHA256, &d.DocSize, &d.Policy, &d.State, &d.Signatures, &dl, &d.WebhookURL,
		&d.WebhookSecret, &d.Reason, &c, &u, &f}, extra...)
	err := r.Scan(dest...)
	d.Deadline, d.CreatedAt, d.UpdatedAt, d.FinalAt = fromMicros(dl), fromMicros(c), fromMicros(u), fromMicros(f)
	return d, mapErr(err)
}

func (s *sqlStore) CreateDecision(ctx context.Context, d Decision) error {
	_, err := s.exec(ctx, `INSERT INTO decisions (id, client_id, title, doc_sha256, doc_size, document, policy, state, deadline, webhook_url,
		webhook_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ClientID, d.Title, d.DocSHA256, d.DocSize, d.Document, string(d.Policy), DecisionPending, micros(d.Deadline), d.WebhookURL,
		d.WebhookSecret, micros(d.CreatedAt), micros(d.CreatedAt))
	return mapErr(err)
}

func (s *sqlStore) GetDecision(ctx context.Context, id string) (Decision, error) {
	var doc, comb []byte
	d, err := scanDecision(s.queryRow(ctx, &s.rs, `SELECT `+decisionCols+`, document, combined FROM decisions WHERE id = ?`, id), &doc, &comb)
	d.Document, d.Combined = doc, comb
	return d, err
}

func (s *sqlStore) ListDecisions(ctx context.Context, state string, limit int) ([]Decision, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := s.query(ctx, `SELECT `+decisionCols+` FROM decisions WHERE state = ? ORDER BY created_at, id LIMIT ?`, state, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) DecisionSignatures(ctx context.Context, id string) ([]DecisionSignature, error) {
	rows, err := s.query(ctx, `SELECT decision_id, seq, pinfl, slot, signature, report, created_at FROM decision_signatures
		WHERE decision_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []DecisionSignature
	for rows.Next() {
		var ds DecisionSignature
		var rep string
		var c int64
		if err := rows.Scan(&ds.DecisionID, &ds.Seq, &ds.PINFL, &ds.Slot, &ds.Signature, &rep, &c); err != nil {
			return nil, mapErr(err)
		}
		ds.Report, ds.CreatedAt = []byte(rep), fromMicros(c)
		out = append(out, ds)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) AddDecisionSignature(ctx context.Context, ds DecisionSignature, combined, logData []byte, audit AuditEvent, hook *Webhook) error {
	st, err := s.prepare(ctx,
		`UPDATE decisions SET signatures = signatures + 1, updated_at = ? WHERE id = ? AND state = 'pending' AND signatures = ?`,
		`INSERT INTO decision_signatures (decision_id, seq, pinfl, slot, signature, report, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		`UPDATE decisions SET state = 'final', combined = ?, final_at = ? WHERE id = ?`,
		logQueueInsert, auditInsert, webhookInsert)
	if err != nil {
		return err
	}
	now := micros(ds.CreatedAt)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := txExec(ctx, tx, st[0], now, ds.DecisionID, ds.Seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: decision %s is not pending with %d signatures", ErrConflict, ds.DecisionID, ds.Seq)
		}
		if _, err := txExec(ctx, tx, st[1], ds.DecisionID, ds.Seq, ds.PINFL, ds.Slot, ds.Signature, string(ds.Report), now); err != nil {
			return err
		}
		if combined != nil {
			if _, err := txExec(ctx, tx, st[2], combined, now, ds.DecisionID); err != nil {
				return err
			}
			if _, err := txExec(ctx, tx, st[3], "decision", ds.DecisionID, "", logData, now); err != nil {
				return err
			}
			if err := insertWebhook(ctx, tx, st[5], hook); err != nil {
				return err
			}
		}
		if audit.Action != "" {
			_, err = txExec(ctx, tx, st[4], micros(audit.Time), audit.Actor, audit.Action, audit.Subject, audit.Details)
		}
		return err
	})
}

func (s *sqlStore) SetDecisionState(ctx context.Context, id string, from []string, state, reason string, now time.Time, hook *Webhook) error {
	if len(from) == 0 {
		return ErrConflict
	}
	ph := "?"
	args := []any{state, reason, micros(now), id, from[0]}
	for _, f := range from[1:] {
		ph += ", ?"
		args = append(args, f)
	}
	st, err := s.prepare(ctx, `UPDATE decisions SET state = ?, reason = ?, updated_at = ? WHERE id = ? AND state IN (`+ph+`)`, webhookInsert)
	if err != nil {
		return err
	}
	changed := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := txExec(ctx, tx, st[0], args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		changed = true
		return insertWebhook(ctx, tx, st[1], hook)
	})
	if err != nil || changed {
		return err
	}
	if _, err := s.GetDecision(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("%w: decision %s", ErrConflict, id)
}

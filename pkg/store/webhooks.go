package store

import (
	"context"
	"database/sql"
	"time"
)

// Webhook is one notification to deliver.
type Webhook struct {
	ID          int64
	Ref         string // what it is about, e.g. a decision id
	URL         string
	Secret      string // HMAC key the body is signed with
	Body        []byte
	Attempts    int
	NextAt      time.Time
	DeliveredAt time.Time
	LastError   string
	CreatedAt   time.Time
}

// Webhooks is the outbox of notifications.
type Webhooks interface {
	// ClaimWebhooks leases up to limit undelivered webhooks due at now
	// with fewer than maxAttempts attempts, for lease: another worker
	// does not take them until the lease ends.
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, maxAttempts, limit int) ([]Webhook, error)
	// FinishWebhook records an attempt: delivered, or failed with the
	// error and the time of the next attempt.
	FinishWebhook(ctx context.Context, id int64, delivered bool, errText string, now, next time.Time) error
	// ListWebhooks returns the webhooks about ref, oldest first.
	ListWebhooks(ctx context.Context, ref string) ([]Webhook, error)
}

const webhookInsert = `INSERT INTO webhook_outbox (ref, url, secret, body, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`

func insertWebhook(ctx context.Context, tx *sql.Tx, st *sql.Stmt, w *Webhook) error {
	if w == nil || w.URL == "" {
		return nil
	}
	_, err := txExec(ctx, tx, st, w.Ref, w.URL, w.Secret, w.Body, micros(w.CreatedAt), micros(w.CreatedAt))
	return err
}

const webhookCols = `id, ref, url, secret, body, attempts, next_at, delivered_at, last_error, created_at`

func scanWebhooks(rows *sql.Rows) ([]Webhook, error) {
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		var w Webhook
		var n, d, c int64
		if err := rows.Scan(&w.ID, &w.Ref, &w.URL, &w.Secret, &w.Body, &w.Attempts, &n, &d, &w.LastError, &c); err != nil {
			return nil, mapErr(err)
		}
		w.NextAt, w.DeliveredAt, w.CreatedAt = fromMicros(n), fromMicros(d), fromMicros(c)
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, maxAttempts, limit int) ([]Webhook, error) {
	rows, err := s.query(ctx, `SELECT `+webhookCols+` FROM webhook_outbox WHERE delivered_at = 0 AND next_at <= ? AND lease_until <= ?
		AND attempts < ? ORDER BY next_at, id LIMIT ?`, micros(now), micros(now), maxAttempts, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	cands, err := scanWebhooks(rows)
	if err != nil {
		return nil, err
	}
	var out []Webhook
	for _, w := range cands {
		res, err := s.exec(ctx, `UPDATE webhook_outbox SET lease_until = ? WHERE id = ? AND delivered_at = 0 AND lease_until <= ?`,
			micros(now.Add(lease)), w.ID, micros(now))
		if err != nil {
			return out, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, w)
		}
	}
	return out, nil
}

func (s *sqlStore) FinishWebhook(ctx context.Context, id int64, delivered bool, errText string, now, next time.Time) error {
	if delivered {
		_, err := s.exec(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1, delivered_at = ?, lease_until = 0, last_error = '' WHERE id = ?`, micros(now), id)
		return mapErr(err)
	}
	_, err := s.exec(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ?, lease_until = 0, last_error = ? WHERE id = ?`, micros(next), errText, id)
	return mapErr(err)
}

func (s *sqlStore) ListWebhooks(ctx context.Context, ref string) ([]Webhook, error) {
	rows, err := s.query(ctx, `SELECT `+webhookCols+` FROM webhook_outbox WHERE ref = ? ORDER BY id`, ref)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanWebhooks(rows)
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LogEntry is one record of the transparency log.
type LogEntry struct {
	Index     int64  // position in the log; for a queued entry, its queue id
	Kind      string // "certificate", "decision"
	Ref       string // what it records: a certificate serial, a decision id
	PINFL     string // the person it concerns, if any
	Data      []byte // the logged bytes (a certificate's DER, ...)
	CreatedAt time.Time
}

// Checkpoint is a signed tree head (a C2SP signed note).
type Checkpoint struct {
	Size      int64
	Note      []byte
	CreatedAt time.Time
}

// TransLog is the transparency log's part of the Store. Entries are queued
// with what they record (IssueCertificate queues the certificate) and
// integrated by a sequencer: IntegrateLog appends a batch at the current
// size, with the tree hashes it computed, or fails with ErrConflict if
// another sequencer moved the size first.
type TransLog interface {
	// QueueLogEntry queues an entry (outside an issuance transaction).
	QueueLogEntry(ctx context.Context, e LogEntry) error
	// PendingLogEntries returns up to limit queued entries, oldest first;
	// Index holds the queue id.
	PendingLogEntries(ctx context.Context, limit int) ([]LogEntry, error)
	// LogSize returns the number of integrated entries.
	LogSize(ctx context.Context) (int64, error)
	// IntegrateLog appends entries (in order, from index size) with the
	// stored hashes computed for them, and removes them from the queue, in
	// one transaction; ErrConflict if the size is no longer size.
	IntegrateLog(ctx context.Context, size int64, entries []LogEntry, hashes map[int64][]byte) error
	// LogHashes reads stored hashes by id; ErrNotFound if one is missing.
	LogHashes(ctx context.Context, ids []int64) ([][]byte, error)
	// GetLogEntry returns the entry at index, or ErrNotFound.
	GetLogEntry(ctx context.Context, index int64) (LogEntry, error)
	// FindLogEntry returns the integrated entry of (kind, ref), or
	// ErrNotFound (also while it is still queued).
	FindLogEntry(ctx context.Context, kind, ref string) (LogEntry, error)
	// LogEntriesOf lists a person's integrated entries, oldest first.
	LogEntriesOf(ctx context.Context, pinfl string) ([]LogEntry, error)
	// PutCheckpoint stores a checkpoint (idempotent for a size).
	PutCheckpoint(ctx context.Context, c Checkpoint) error
	// LatestCheckpoint returns the checkpoint of the largest size, or
	// ErrNotFound.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// GetCheckpoint returns the checkpoint of a size, or ErrNotFound.
	GetCheckpoint(ctx context.Context, size int64) (Checkpoint, error)
}

const logQueueInsert = `INSERT INTO log_queue (kind, ref, pinfl, data, created_at) VALUES (?, ?, ?, ?, ?)`

func (s *sqlStore) QueueLogEntry(ctx context.Context, e LogEntry) error {
	_, err := s.exec(ctx, logQueueInsert, e.Kind, e.Ref, e.PINFL, e.Data, micros(e.CreatedAt))
	return mapErr(err)
}

func (s *sqlStore) PendingLogEntries(ctx context.Context, limit int) ([]LogEntry, error) {
	rows, err := s.query(ctx, `SELECT id, kind, ref, pinfl, data, created_at FROM log_queue ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanLogEntries(rows)
}

func scanLogEntries(rows *sql.Rows) ([]LogEntry, error) {
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		var c int64
		if err := rows.Scan(&e.Index, &e.Kind, &e.Ref, &e.PINFL, &e.Data, &c); err != nil {
			return nil, mapErr(err)
		}
		e.CreatedAt = fromMicros(c)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) LogSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, &s.rs, `SELECT size FROM log_state WHERE id = 1`).Scan(&n)
	return n, mapErr(err)
}

func (s *sqlStore) IntegrateLog(ctx context.Context, size int64, entries []LogEntry, hashes map[int64][]byte) error {
	st, err := s.prepare(ctx, `UPDATE log_state SET size = ? WHERE id = 1 AND size = ?`,
		`INSERT INTO log_entries (idx, kind, ref, pinfl, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		`INSERT INTO log_hashes (id, hash) VALUES (?, ?)`, `DELETE FROM log_queue WHERE id = ?`)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := txExec(ctx, tx, st[0], size+int64(len(entries)), size)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: the log is no longer at size %d", ErrConflict, size)
		}
		for i, e := range entries {
			if _, err := txExec(ctx, tx, st[1], size+int64(i), e.Kind, e.Ref, e.PINFL, e.Data, micros(e.CreatedAt)); err != nil {
				return err
			}
			if _, err := txExec(ctx, tx, st[3], e.Index); err != nil {
				return err
			}
		}
		for id, h := range hashes {
			if _, err := txExec(ctx, tx, st[2], id, h); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlStore) LogHashes(ctx context.Context, ids []int64) ([][]byte, error) {
	out := make([][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		args[i], ph[i] = id, "?"
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, hash FROM log_hashes WHERE id IN (`+strings.Join(ph, ",")+`)`), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	got := make(map[int64][]byte, len(ids))
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, mapErr(err)
		}
		got[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	for i, id := range ids {
		h, ok := got[id]
		if !ok {
			return nil, fmt.Errorf("%w: log hash %d", ErrNotFound, id)
		}
		out[i] = h
	}
	return out, nil
}

const logEntryCols = `idx, kind, ref, pinfl, data, created_at`

func (s *sqlStore) GetLogEntry(ctx context.Context, index int64) (LogEntry, error) {
	rows, err := s.query(ctx, `SELECT `+logEntryCols+` FROM log_entries WHERE idx = ?`, index)
	return oneLogEntry(rows, err)
}

func oneLogEntry(rows *sql.Rows, err error) (LogEntry, error) {
	if err != nil {
		return LogEntry{}, mapErr(err)
	}
	es, err := scanLogEntries(rows)
	if err != nil {
		return LogEntry{}, err
	}
	if len(es) == 0 {
		return LogEntry{}, ErrNotFound
	}
	return es[0], nil
}

func (s *sqlStore) FindLogEntry(ctx context.Context, kind, ref string) (LogEntry, error) {
	rows, err := s.query(ctx, `SELECT `+logEntryCols+` FROM log_entries WHERE kind = ? AND ref = ?`, kind, ref)
	return oneLogEntry(rows, err)
}

func (s *sqlStore) LogEntriesOf(ctx context.Context, pinfl string) ([]LogEntry, error) {
	rows, err := s.query(ctx, `SELECT `+logEntryCols+` FROM log_entries WHERE pinfl = ? ORDER BY idx`, pinfl)
	if err != nil {
		return nil, mapErr(err)
	}
	return scanLogEntries(rows)
}

func (s *sqlStore) PutCheckpoint(ctx context.Context, c Checkpoint) error {
	_, err := s.exec(ctx, `INSERT INTO log_checkpoints (size, note, created_at) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING`,
		c.Size, c.Note, micros(c.CreatedAt))
	return mapErr(err)
}

func scanCheckpoint(r rowScanner) (Checkpoint, error) {
	var c Checkpoint
	var t int64
	err := r.Scan(&c.Size, &c.Note, &t)
	c.CreatedAt = fromMicros(t)
	return c, mapErr(err)
}

func (s *sqlStore) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	return scanCheckpoint(s.queryRow(ctx, &s.rs, `SELECT size, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1`))
}

func (s *sqlStore) GetCheckpoint(ctx context.Context, size int64) (Checkpoint, error) {
	return scanCheckpoint(s.queryRow(ctx, &s.rs, `SELECT size, note, created_at FROM log_checkpoints WHERE size = ?`, size))
}

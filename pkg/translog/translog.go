// Package translog is Yagona's transparency log: an append-only Merkle
// tree (RFC 9162 hashing, golang.org/x/mod/sumdb/tlog) of every issued
// certificate (and, later, every final decision), with signed checkpoints
// in the C2SP signed-note format (golang.org/x/mod/sumdb/note), inclusion
// proofs by entry and consistency proofs between checkpoints.
//
// # Appending
//
// An entry is queued in the same database transaction as what it records
// (pkg/store's IssueCertificate queues the certificate), so nothing is on
// record without its entry. The sequencer (Integrate, run by Run) takes
// queued entries in order, computes the tree's new stored hashes and
// appends them with a conditional update of the tree size: if another
// replica's sequencer moved first, the batch is retried, never doubled.
// A checkpoint is signed whenever the tree grew, and at least every
// interval Run is given.
//
// # Leaves
//
// A leaf's data is the entry kind, a newline, and the recorded bytes (a
// certificate's DER): "certificate\n" || DER. Its hash is RFC 9162's
// SHA-256(0x00 || data).
//
// # Checkpoints
//
//	<origin>
//	<size, decimal>
//	<root hash, base64>
//
//	— <key name> <base64 key hash and Ed25519 signature>
//
// The key is Ed25519 behind crypto.Signer (pkg/kms); VerifierKey gives the
// public verifier key ("name+hash+base64") that offline verification
// (`yagona log verify`) needs.
package translog

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/yagona/yagona/pkg/store"
)

// Store is the log's durable state; pkg/store satisfies it.
type Store interface {
	PendingLogEntries(ctx context.Context, limit int) ([]store.LogEntry, error)
	LogSize(ctx context.Context) (int64, error)
	IntegrateLog(ctx context.Context, size int64, entries []store.LogEntry, hashes map[int64][]byte) error
	LogHashes(ctx context.Context, ids []int64) ([][]byte, error)
	GetLogEntry(ctx context.Context, index int64) (store.LogEntry, error)
	FindLogEntry(ctx context.Context, kind, ref string) (store.LogEntry, error)
	LogEntriesOf(ctx context.Context, pinfl string) ([]store.LogEntry, error)
	PutCheckpoint(ctx context.Context, c store.Checkpoint) error
	LatestCheckpoint(ctx context.Context) (store.Checkpoint, error)
	GetCheckpoint(ctx context.Context, size int64) (store.Checkpoint, error)
}

// Config configures a Log.
type Config struct {
	Origin string        // checkpoint origin line, e.g. "id.example.uz/log"
	Key    crypto.Signer // Ed25519
	Now    func() time.Time
	Logger *slog.Logger
	Batch  int // entries per integration; zero: 1000
}

// Log is the transparency log.
type Log struct {
	cfg    Config
	st     Store
	signer *edSigner
	vkey   string
}

// New checks the key and returns the log.
func New(cfg Config, st Store) (*Log, error) {
	if cfg.Origin == "" || strings.ContainsAny(cfg.Origin, "\n") {
		return nil, errors.New("translog: origin is required, on one line")
	}
	pub, ok := cfg.Key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("translog: the checkpoint key must be Ed25519")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	vkey, err := note.NewEd25519VerifierKey(cfg.Origin, pub)
	if err != nil {
		return nil, fmt.Errorf("translog: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("translog: %w", err)
	}
	return &Log{cfg: cfg, st: st, vkey: vkey, signer: &edSigner{name: cfg.Origin, hash: v.KeyHash(), key: cfg.Key}}, nil
}

// VerifierKey is the public key offline verifiers need.
func (l *Log) VerifierKey() string { return l.vkey }

// edSigner signs notes with a crypto.Signer.
type edSigner struct {
	name string
	hash uint32
	key  crypto.Signer
}

func (s *edSigner) Name() string    { return s.name }
func (s *edSigner) KeyHash() uint32 { return s.hash }
func (s *edSigner) Sign(msg []byte) ([]byte, error) {
	return s.key.Sign(rand.Reader, msg, crypto.Hash(0))
}

// LeafData is the logged bytes of an entry.
func LeafData(kind string, data []byte) []byte {
	return append([]byte(kind+"\n"), data...)
}

// hashReader reads stored hashes, with an overlay of hashes not yet
// stored.
func (l *Log) hashReader(ctx context.Context, overlay map[int64]tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		var missing []int64
		var at []int
		for i, id := range ids {
			if h, ok := overlay[id]; ok {
				out[i] = h
				continue
			}
			missing = append(missing, id)
			at = append(at, i)
		}
		if len(missing) > 0 {
			got, err := l.st.LogHashes(ctx, missing)
			if err != nil {
				return nil, err
			}
			for j, b := range got {
				if len(b) != tlog.HashSize {
					return nil, fmt.Errorf("translog: stored hash %d has %d bytes", missing[j], len(b))
				}
				copy(out[at[j]][:], b)
			}
		}
		return out, nil
	})
}

// Integrate appends queued entries to the tree and returns how many.
func (l *Log) Integrate(ctx context.Context) (int, error) {
	total := 0
	for attempt := 0; attempt < 5; {
		// The size first: if another sequencer appends after this read,
		// the conditional update below fails and the batch is retried.
		size, err := l.st.LogSize(ctx)
		if err != nil {
			return total, err
		}
		pending, err := l.st.PendingLogEntries(ctx, l.cfg.Batch)
		if err != nil || len(pending) == 0 {
			return total, err
		}
		overlay := map[int64]tlog.Hash{}
		r := l.hashReader(ctx, overlay)
		for i, e := range pending {
			hs, err := tlog.StoredHashes(size+int64(i), LeafData(e.Kind, e.Data), r)
			if err != nil {
				return total, fmt.Errorf("translog: %w", err)
			}
			base := tlog.StoredHashIndex(0, size+int64(i))
			for j, h := range hs {
				overlay[base+int64(j)] = h
			}
		}
		hashes := make(map[int64][]byte, len(overlay))
		for id, h := range overlay {
			hashes[id] = bytes.Clone(h[:])
		}
		err = l.st.IntegrateLog(ctx, size, pending, hashes)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists) {
			attempt++ // another sequencer moved the tree: start again from its size
			continue
		}
		if err != nil {
			return total, err
		}
		total += len(pending)
		if len(pending) < l.cfg.Batch {
			return total, nil
		}
	}
	// Another sequencer keeps winning: it is doing the work.
	return total, nil
}

// Checkpoint signs a checkpoint of the current tree if it grew since the
// latest one (or there is none), and returns the latest.
func (l *Log) Checkpoint(ctx context.Context) (store.Checkpoint, error) {
	size, err := l.st.LogSize(ctx)
	if err != nil {
		return store.Checkpoint{}, err
	}
	latest, err := l.st.LatestCheckpoint(ctx)
	if err == nil && latest.Size >= size {
		return latest, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Checkpoint{}, err
	}
	root, err := tlog.TreeHash(size, l.hashReader(ctx, nil))
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("translog: %w", err)
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", l.cfg.Origin, size, base64.StdEncoding.EncodeToString(root[:]))
	signed, err := note.Sign(&note.Note{Text: text}, l.signer)
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("translog: %w", err)
	}
	c := store.Checkpoint{Size: size, Note: signed, CreatedAt: l.cfg.Now()}
	if err := l.st.PutCheckpoint(ctx, c); err != nil {
		return store.Checkpoint{}, err
	}
	return l.st.GetCheckpoint(ctx, size)
}

// Step integrates the queue and signs a checkpoint if the tree grew: one
// round of Run, for a job leader to call.
func (l *Log) Step(ctx context.Context) {
	if n, err := l.Integrate(ctx); err != nil {
		l.cfg.Logger.ErrorContext(ctx, "log integration failed", "err", err)
	} else if n > 0 {
		l.cfg.Logger.DebugContext(ctx, "log entries integrated", "count", n)
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		l.cfg.Logger.ErrorContext(ctx, "log checkpoint failed", "err", err)
	}
}

// Run integrates and checkpoints every interval until ctx ends.
func (l *Log) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := l.Integrate(ctx); err != nil {
			l.cfg.Logger.ErrorContext(ctx, "log integration failed", "err", err)
		} else if n > 0 {
			l.cfg.Logger.DebugContext(ctx, "log entries integrated", "count", n)
		}
		if _, err := l.Checkpoint(ctx); err != nil {
			l.cfg.Logger.ErrorContext(ctx, "log checkpoint failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// InclusionProof proves entry index in the tree of size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("translog: index %d not in a tree of %d", index, size)
	}
	return tlog.ProveRecord(size, index, l.hashReader(ctx, nil))
}

// ConsistencyProof proves the tree of size from is a prefix of size to.
func (l *Log) ConsistencyProof(ctx context.Context, from, to int64) (tlog.TreeProof, error) {
	if from < 1 || from > to {
		return nil, fmt.Errorf("translog: no consistency proof from %d to %d", from, to)
	}
	return tlog.ProveTree(to, from, l.hashReader(ctx, nil))
}

// Tree is a verified checkpoint.
type Tree struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// VerifyCheckpoint checks a signed checkpoint against the verifier key and
// returns the tree it commits to.
func VerifyCheckpoint(signed []byte, vkey string) (Tree, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Tree{}, fmt.Errorf("translog: verifier key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Tree{}, fmt.Errorf("translog: checkpoint signature: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return Tree{}, errors.New("translog: malformed checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return Tree{}, errors.New("translog: malformed checkpoint size")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Tree{}, errors.New("translog: malformed checkpoint hash")
	}
	t := Tree{Origin: lines[0], Size: size}
	copy(t.Hash[:], raw)
	if t.Origin != v.Name() {
		return Tree{}, errors.New("translog: checkpoint origin is not the key's name")
	}
	return t, nil
}

// VerifyInclusion checks that leaf data is entry index of the tree.
func VerifyInclusion(t Tree, index int64, leaf []byte, proof tlog.RecordProof) error {
	return tlog.CheckRecord(proof, t.Size, t.Hash, index, tlog.RecordHash(leaf))
}

// VerifyConsistency checks that older is a prefix of newer.
func VerifyConsistency(older, newer Tree, proof tlog.TreeProof) error {
	if older.Origin != newer.Origin {
		return errors.New("translog: checkpoints of different logs")
	}
	return tlog.CheckTree(proof, newer.Size, newer.Hash, older.Size, older.Hash)
}

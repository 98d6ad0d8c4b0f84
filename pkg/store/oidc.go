package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Client is a registered OpenID Connect relying party. The provider owns
// the meaning of Metadata (a JSON object: redirect URIs, authentication
// method, the hash of its secret, scopes, ...); the store keeps it opaque.
type Client struct {
	ID        string
	Metadata  []byte // JSON object
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RefreshToken is one refresh token of a rotation family; only the
// SHA-256 of the token is kept.
type RefreshToken struct {
	Hash      []byte // SHA-256 of the token: the key
	FamilyID  string
	ClientID  string
	Subject   string // the person's PINFL
	SessionID string // the login session that started the family
	Grant     []byte // JSON, opaque to the store (scopes, claims, acr, amr)
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // set when rotated; zero while current
	RevokedAt time.Time // the family's revocation; read-only, zero if not revoked
}

// SigningKey is a token-signing key of the identity provider; the private
// key lives in pkg/kms under KeyURI.
type SigningKey struct {
	ID        string // JWK kid
	Algorithm string // JWS alg, e.g. "ES256"
	KeyURI    string
	Public    []byte // PKIX SubjectPublicKeyInfo DER
	CreatedAt time.Time
	ActiveAt  time.Time // signs from this time on (published before)
	RetireAt  time.Time // zero: not retired; from then on not published
	// Wrapped is the private key encrypted for storage (an encrypted PEM
	// PKCS#8), when the key lives in the database rather than at KeyURI.
	Wrapped []byte
}

// Consent records the scopes a person allowed a client to receive.
type Consent struct {
	Subject   string
	ClientID  string
	Scopes    []string // returned sorted, without duplicates
	GrantedAt time.Time
}

// OIDC is the identity provider's part of the Store.
type OIDC interface {
	// CreateClient inserts a client; ErrAlreadyExists for a duplicate ID.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client (disabled ones too) or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces Metadata, Disabled and UpdatedAt; ErrNotFound
	// if the client does not exist.
	UpdateClient(ctx context.Context, c Client) error

	// CreateRefreshToken stores the first token of a new family;
	// ErrAlreadyExists if the family or the hash exists.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RotateRefreshToken exchanges the token with hash oldHash for next in
	// one transaction; next takes the family, client, subject and session
	// of the old token, and its grant when next.Grant is nil. ErrNotFound for an unknown hash; ErrConflict (and
	// no change) if the family is revoked or the old token expired
	// (ExpiresAt <= now). If the old token was already used, the family is
	// revoked at now (committed) and ErrReused returned. Otherwise the old
	// token gets UsedAt = now, next is stored, and the old token is
	// returned. Of concurrent rotations of one token exactly one succeeds;
	// the others get ErrReused and the family ends revoked.
	RotateRefreshToken(ctx context.Context, oldHash []byte, next RefreshToken, now time.Time) (RefreshToken, error)
	// GetRefreshToken returns the token, with its family's RevokedAt, or
	// ErrNotFound.
	GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// RevokeRefreshFamily revokes a family at now; revoking again keeps the
	// first time. ErrNotFound if the family does not exist.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeSessionRefresh revokes every family started by sessionID and
	// returns how many were newly revoked.
	RevokeSessionRefresh(ctx context.Context, sessionID string, now time.Time) (int, error)
	// DeleteExpiredRefresh deletes the tokens that expired before before,
	// and the families left without tokens; it returns the number of
	// tokens deleted.
	DeleteExpiredRefresh(ctx context.Context, before time.Time) (int, error)

	// CreateSigningKey inserts a key; ErrAlreadyExists for a duplicate ID.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key ordered by ActiveAt, then ID.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey sets RetireAt unless it is set already; ErrNotFound
	// if the key does not exist.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error

	// PutConsent inserts or replaces the consent of (Subject, ClientID).
	PutConsent(ctx context.Context, c Consent) error
	// GetConsent returns the consent or ErrNotFound.
	GetConsent(ctx context.Context, subject, clientID string) (Consent, error)
	// DeleteConsent removes the consent; an absent one is not an error.
	DeleteConsent(ctx context.Context, subject, clientID string) error
}

func (s *sqlStore) CreateClient(ctx context.Context, c Client) error {
	_, err := s.exec(ctx, `INSERT INTO oidc_clients (id, metadata, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, string(c.Metadata), c.Disabled, micros(c.CreatedAt), micros(c.UpdatedAt))
	return mapErr(err)
}

const clientCols = `id, metadata, disabled, created_at, updated_at`

func scanClient(r rowScanner) (Client, error) {
	var c Client
	var meta string
	var created, updated int64
	err := r.Scan(&c.ID, &meta, &c.Disabled, &created, &updated)
	c.Metadata, c.CreatedAt, c.UpdatedAt = []byte(meta), fromMicros(created), fromMicros(updated)
	return c, mapErr(err)
}

func (s *sqlStore) GetClient(ctx context.Context, id string) (Client, error) {
	return scanClient(s.queryRow(ctx, &s.rs, `SELECT `+clientCols+` FROM oidc_clients WHERE id = ?`, id))
}

func (s *sqlStore) ListClients(ctx context.Context) ([]Client, error) {
	rows, err := s.query(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) UpdateClient(ctx context.Context, c Client) error {
	res, err := s.exec(ctx, `UPDATE oidc_clients SET metadata = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		string(c.Metadata), c.Disabled, micros(c.UpdatedAt), c.ID)
	if err != nil {
		return err
	}
	return oneRow(res)
}

func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

const (
	familyInsert = `INSERT INTO refresh_families (id, client_id, subject, session_id, created_at) VALUES (?, ?, ?, ?, ?)`
	tokenInsert  = `INSERT INTO refresh_tokens (hash, family_id, grant_data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`
	tokenSelect  = `SELECT t.hash, t.family_id, f.client_id, f.subject, f.session_id, t.grant_data, t.created_at, t.expires_at,
		t.used_at, f.revoked_at FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = ?`
	tokenRotate = `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at = 0 AND expires_at > ?
		AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.id = ? AND f.revoked_at = 0)`
	familyRevoke = `UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at = 0`
)

func (s *sqlStore) CreateRefreshToken(ctx context.Context, t RefreshToken) error {
	st, err := s.prepare(ctx, familyInsert, tokenInsert)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := txExec(ctx, tx, st[0], t.FamilyID, t.ClientID, t.Subject, t.SessionID, micros(t.CreatedAt)); err != nil {
			return err
		}
		_, err := txExec(ctx, tx, st[1], t.Hash, t.FamilyID, t.Grant, micros(t.CreatedAt), micros(t.ExpiresAt))
		return err
	})
}

func scanRefresh(r rowScanner) (RefreshToken, error) {
	var t RefreshToken
	var created, expires, used, revoked int64
	err := r.Scan(&t.Hash, &t.FamilyID, &t.ClientID, &t.Subject, &t.SessionID, &t.Grant, &created, &expires, &used, &revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(used), fromMicros(revoked)
	return t, mapErr(err)
}

func (s *sqlStore) GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	return scanRefresh(s.queryRow(ctx, &s.rs, tokenSelect, hash))
}

func (s *sqlStore) RotateRefreshToken(ctx context.Context, oldHash []byte, next RefreshToken, now time.Time) (RefreshToken, error) {
	// The old token is read on the read pool; the write transaction holds
	// only the conditional UPDATE (used_at = 0, unexpired, family not
	// revoked) and the INSERT, so the single SQLite writer is held briefly
	// and PostgreSQL serializes concurrent rotations on the row.
	old, err := scanRefresh(s.queryRow(ctx, &s.rs, tokenSelect, oldHash))
	if err != nil {
		return RefreshToken{}, err
	}
	if !old.RevokedAt.IsZero() || !old.ExpiresAt.After(now) {
		return RefreshToken{}, ErrConflict
	}
	st, err := s.prepare(ctx, tokenRotate, tokenInsert, familyRevoke)
	if err != nil {
		return RefreshToken{}, err
	}
	grant := next.Grant
	if grant == nil {
		grant = old.Grant
	}
	rotated := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := txExec(ctx, tx, st[0], micros(now), oldHash, micros(now), old.FamilyID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return mapErr(err)
		}
		if n == 1 {
			rotated = true
			_, err := txExec(ctx, tx, st[1], next.Hash, old.FamilyID, grant, micros(next.CreatedAt), micros(next.ExpiresAt))
			return err
		}
		return nil
	})
	if err != nil {
		return RefreshToken{}, err
	}
	if rotated {
		return old, nil
	}
	// Not rotated: used already (a replay, or a concurrent rotation won),
	// or the family was revoked or the token expired in between. Read
	// again on the writer to tell which.
	cur, err := scanRefresh(s.queryRow(ctx, &s.ws, tokenSelect, oldHash))
	if err != nil {
		return RefreshToken{}, err
	}
	if !cur.RevokedAt.IsZero() && cur.UsedAt.IsZero() || !cur.ExpiresAt.After(now) {
		return RefreshToken{}, ErrConflict
	}
	if _, err := s.exec(ctx, familyRevoke, micros(now), old.FamilyID); err != nil {
		return RefreshToken{}, err
	}
	return RefreshToken{}, ErrReused
}

func (s *sqlStore) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	res, err := s.exec(ctx, familyRevoke, micros(now), familyID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var id string
	return mapErr(s.queryRow(ctx, &s.rs, `SELECT id FROM refresh_families WHERE id = ?`, familyID).Scan(&id))
}

func (s *sqlStore) RevokeSessionRefresh(ctx context.Context, sessionID string, now time.Time) (int, error) {
	res, err := s.exec(ctx, `UPDATE refresh_families SET revoked_at = ? WHERE session_id = ? AND revoked_at = 0`, micros(now), sessionID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

func (s *sqlStore) DeleteExpiredRefresh(ctx context.Context, before time.Time) (int, error) {
	st, err := s.prepare(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`,
		`DELETE FROM refresh_families WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_families.id)`)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := txExec(ctx, tx, st[0], micros(before))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return mapErr(err)
		}
		_, err = txExec(ctx, tx, st[1])
		return err
	})
	return int(n), err
}

func (s *sqlStore) CreateSigningKey(ctx context.Context, k SigningKey) error {
	_, err := s.exec(ctx, `INSERT INTO signing_keys (id, algorithm, key_uri, public_key, created_at, active_at, retire_at, wrapped) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.KeyURI, k.Public, micros(k.CreatedAt), micros(k.ActiveAt), micros(k.RetireAt), k.Wrapped)
	return mapErr(err)
}

func (s *sqlStore) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := s.query(ctx, `SELECT id, algorithm, key_uri, public_key, created_at, active_at, retire_at, wrapped FROM signing_keys ORDER BY active_at, id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var c, a, r int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.KeyURI, &k.Public, &c, &a, &r, &k.Wrapped); err != nil {
			return nil, mapErr(err)
		}
		k.CreatedAt, k.ActiveAt, k.RetireAt = fromMicros(c), fromMicros(a), fromMicros(r)
		out = append(out, k)
	}
	return out, mapErr(rows.Err())
}

func (s *sqlStore) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE signing_keys SET retire_at = ? WHERE id = ? AND retire_at = 0`, micros(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var got string
	return mapErr(s.queryRow(ctx, &s.rs, `SELECT id FROM signing_keys WHERE id = ?`, id).Scan(&got))
}

func normScopes(scopes []string) []string {
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *sqlStore) PutConsent(ctx context.Context, c Consent) error {
	for _, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\n") {
			return fmt.Errorf("%w: consent: scope names must be non-empty without spaces", ErrInvalid)
		}
	}
	q := `INSERT INTO consents (subject, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`
	_, err := s.exec(ctx, q, c.Subject, c.ClientID, strings.Join(normScopes(c.Scopes), " "), micros(c.GrantedAt))
	return mapErr(err)
}

func (s *sqlStore) GetConsent(ctx context.Context, subject, clientID string) (Consent, error) {
	c := Consent{Subject: subject, ClientID: clientID}
	var scopes string
	var at int64
	err := s.queryRow(ctx, &s.rs, `SELECT scopes, granted_at FROM consents WHERE subject = ? AND client_id = ?`, subject, clientID).Scan(&scopes, &at)
	c.Scopes, c.GrantedAt = strings.Fields(scopes), fromMicros(at)
	return c, mapErr(err)
}

func (s *sqlStore) DeleteConsent(ctx context.Context, subject, clientID string) error {
	_, err := s.exec(ctx, `DELETE FROM consents WHERE subject = ? AND client_id = ?`, subject, clientID)
	return mapErr(err)
}

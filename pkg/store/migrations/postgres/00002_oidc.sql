-- +goose Up
CREATE TABLE oidc_clients (
    id         TEXT PRIMARY KEY,
    metadata   TEXT NOT NULL,
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE refresh_families (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_families_session ON refresh_families(session_id);
CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families(id),
    grant_data BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    key_uri    TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    active_at  BIGINT NOT NULL,
    retire_at  BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE consents (
    subject    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (subject, client_id)
);

-- +goose Down
DROP TABLE consents;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE oidc_clients;

-- +goose Up
CREATE TABLE persons (
    pinfl       TEXT PRIMARY KEY,
    given_name  TEXT NOT NULL,
    surname     TEXT NOT NULL,
    patronymic  TEXT NOT NULL DEFAULT '',
    birth_date  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE organizations (
    tin         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE enrollments (
    id           TEXT PRIMARY KEY,
    code_hash    BYTEA NOT NULL,
    pinfl        TEXT NOT NULL REFERENCES persons(pinfl),
    profile      TEXT NOT NULL,
    tin          TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    max_attempts INTEGER NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0,
    locked       BOOLEAN NOT NULL DEFAULT FALSE,
    cert_serial  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enrollments_pinfl ON enrollments(pinfl);
CREATE TABLE certificates (
    serial        TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    pinfl         TEXT NOT NULL DEFAULT '',
    profile       TEXT NOT NULL,
    enrollment_id TEXT NOT NULL DEFAULT '',
    renewed_from  TEXT NOT NULL DEFAULT '',
    not_before    BIGINT NOT NULL,
    not_after     BIGINT NOT NULL,
    der           BYTEA NOT NULL,
    status        TEXT NOT NULL,
    revoked_at    BIGINT NOT NULL DEFAULT 0,
    reason        INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX certificates_pinfl ON certificates(pinfl, created_at);
CREATE INDEX certificates_revoked ON certificates(issuer, status, serial) WHERE status <> 'good';
CREATE TABLE crl_numbers (
    issuer TEXT PRIMARY KEY,
    number BIGINT NOT NULL
);
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    der         BYTEA NOT NULL
);
CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    hash       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    time    BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit;
DROP TABLE credentials;
DROP TABLE crls;
DROP TABLE crl_numbers;
DROP TABLE certificates;
DROP TABLE enrollments;
DROP TABLE organizations;
DROP TABLE persons;

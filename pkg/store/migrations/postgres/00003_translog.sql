-- +goose Up
-- Entries waiting for the sequencer: written in the same transaction as
-- what they record (an issued certificate), so nothing is recorded
-- without its log entry.
CREATE TABLE log_queue (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        TEXT NOT NULL,
    pinfl      TEXT NOT NULL DEFAULT '',
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE log_entries (
    idx        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        TEXT NOT NULL,
    pinfl      TEXT NOT NULL DEFAULT '',
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX log_entries_ref ON log_entries(kind, ref);
CREATE INDEX log_entries_pinfl ON log_entries(pinfl, idx) WHERE pinfl <> '';
-- The tree's stored hashes (golang.org/x/mod/sumdb/tlog numbering).
CREATE TABLE log_hashes (
    id   BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);
CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY,
    size BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);
CREATE TABLE log_checkpoints (
    size       BIGINT PRIMARY KEY,
    note       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE log_checkpoints;
DROP TABLE log_state;
DROP TABLE log_hashes;
DROP TABLE log_entries;
DROP TABLE log_queue;

-- +goose Up
CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    doc_sha256     BYTEA NOT NULL,
    doc_size       BIGINT NOT NULL,
    document       BYTEA,
    policy         TEXT NOT NULL,
    state          TEXT NOT NULL,
    signatures     INTEGER NOT NULL DEFAULT 0,
    deadline       BIGINT NOT NULL,
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    combined       BYTEA,
    reason         TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    final_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX decisions_state ON decisions(state, deadline);
CREATE TABLE decision_signatures (
    decision_id TEXT NOT NULL REFERENCES decisions(id),
    seq         INTEGER NOT NULL,
    pinfl       TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    signature   BYTEA NOT NULL,
    report      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (decision_id, seq)
);
CREATE UNIQUE INDEX decision_signatures_pinfl ON decision_signatures(decision_id, pinfl);

-- +goose Down
DROP TABLE decision_signatures;
DROP TABLE decisions;

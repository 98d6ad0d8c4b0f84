-- +goose Up
-- Webhooks to deliver, written in the transaction that changes what they
-- report; any replica's worker claims a due one for a lease.
CREATE TABLE webhook_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ref          TEXT NOT NULL,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    body         BLOB NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_at) WHERE delivered_at = 0;

-- +goose Down
DROP TABLE webhook_outbox;

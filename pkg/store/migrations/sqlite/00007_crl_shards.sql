-- +goose Up
-- CRL sharding: each certificate names its CRL shard at issuance (the
-- shard's URL is in its CRL distribution point), and each shard has its
-- own latest CRL. Shard 0 is the unsharded CRL of certificates issued
-- before sharding (or with it switched off).
ALTER TABLE certificates ADD COLUMN crl_shard BIGINT NOT NULL DEFAULT 0;
-- When the status last changed (0: never), for the sweep that catches a
-- status change whose OCSP invalidation or CRL reissue was lost.
ALTER TABLE certificates ADD COLUMN status_changed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX certificates_revoked_shard ON certificates(issuer, crl_shard, serial) WHERE status <> 'good';
CREATE INDEX certificates_status_changed ON certificates(issuer, status_changed_at) WHERE status_changed_at > 0;
CREATE TABLE crl_shards (
    issuer      TEXT NOT NULL,
    shard       BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    der         BLOB NOT NULL,
    PRIMARY KEY (issuer, shard)
);
INSERT INTO crl_shards (issuer, shard, number, this_update, next_update, der)
    SELECT issuer, 0, number, this_update, next_update, der FROM crls;
DROP TABLE crls;

-- +goose Down
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    der         BLOB NOT NULL
);
INSERT INTO crls (issuer, number, this_update, next_update, der)
    SELECT issuer, number, this_update, next_update, der FROM crl_shards WHERE shard = 0;
DROP TABLE crl_shards;
DROP INDEX certificates_status_changed;
DROP INDEX certificates_revoked_shard;
ALTER TABLE certificates DROP COLUMN status_changed_at;
ALTER TABLE certificates DROP COLUMN crl_shard;

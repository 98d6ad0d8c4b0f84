-- +goose Up
-- A token-signing key kept in the database, encrypted (PKCS#8 under PBES2
-- with the key passphrase), so that every replica can load a key the
-- rotation job made on one of them. NULL for keys held elsewhere (a file
-- or an HSM object named by key_uri).
ALTER TABLE signing_keys ADD COLUMN wrapped BYTEA;

-- +goose Down
ALTER TABLE signing_keys DROP COLUMN wrapped;

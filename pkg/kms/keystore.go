package kms

import "crypto"

// KeyStore opens and makes keys by URI under fixed Options, for consumers
// that name algorithms by string (ca.KeyStore: "ecdsa-p256",
// "ecdsa-p384") and do not import this package.
type KeyStore struct{ Options Options }

// Load returns the key uri names (see Load).
func (k KeyStore) Load(uri string) (crypto.Signer, error) { return Load(uri, k.Options) }

// Create makes a key of algorithm alg under uri (see Create).
func (k KeyStore) Create(uri, alg string) (crypto.Signer, error) {
	return Create(uri, Algorithm(alg), k.Options)
}

// Exists reports whether uri names a key (see Exists).
func (k KeyStore) Exists(uri string) (bool, error) { return Exists(uri, k.Options) }

// Package kms holds Yagona's private keys behind crypto.Signer, addressed by
// key URIs so that configuration names a key without caring where it lives.
//
// Keys live in encrypted files or on PKCS#11 tokens (hardware security
// modules; SoftHSM2 in tests).
//
// File keys: file:<path>, optionally naming where the passphrase comes
// from (?passphrase-env=VAR or ?passphrase-file=PATH); see KeyURI. Key
// files hold one PEM "ENCRYPTED PRIVATE KEY" block (RFC 7468): a PKCS#8
// private key (RFC 5958) encrypted with PBES2 (RFC 8018) using
// PBKDF2-HMAC-SHA256 and AES-256-CBC, the format OpenSSL reads and writes
// ("openssl pkey -in ca.key", "openssl genpkey ... -aes-256-cbc"). Files are
// written with mode 0600 in directories created with mode 0700, and are
// never overwritten. Unencrypted key files are refused.
//
// Token keys: PKCS#11 URIs (RFC 7512), through go.step.sm/crypto/kms/pkcs11
// and crypto11:
//
//	pkcs11:token=LABEL;object=LABEL?module-path=MODULE&pin-source=file:PATH
//	pkcs11:serial=SERIAL;id=%01%02;object=LABEL?module-path=MODULE&pin-source=env:VAR
//
// Path attributes (';'-separated): token (label) or serial, exactly one;
// object (CKA_LABEL) and id (CKA_ID, percent-encoded bytes), at least one;
// type=private allowed. Query attributes ('&'-separated): module-path and
// pin-source, both required; pin-source is file:PATH (or a bare PATH,
// relative to Options.BaseDir) or env:VAR. pin-value is refused. Create
// makes non-extractable ECDSA P-256/P-384 and RSA key pairs and needs an
// object label; without an id it sets CKA_ID from the label (see
// PKCS11URI.KeyID). Ed25519 is not available on tokens (crypto11 has no
// EdDSA): Create fails with ErrUnsupported. PKCS#11 needs cgo: a binary
// built without it rejects pkcs11 URIs with ErrUnsupported. Tokens stay
// open in Options.Tokens, one login and session pool per (module, token).
//
// Passphrases and PINs never appear in errors, and this package does not
// log.
package kms

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

var (
	// ErrUnsupported is wrapped by errors for key URI schemes, encryption
	// schemes and key types this package does not (yet) handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrWrongPassphrase is wrapped by decryption errors due to a wrong
	// passphrase or a corrupt file (the format cannot tell them apart).
	ErrWrongPassphrase = errors.New("wrong passphrase or corrupt file")
	// ErrNoPassphrase is wrapped when a key URI names no passphrase source
	// and Options.Passphrase is empty.
	ErrNoPassphrase = errors.New("no passphrase")
)

// Options complete key URIs.
type Options struct {
	// BaseDir resolves relative paths in key URIs (the key file and a
	// passphrase-file); empty means the working directory.
	BaseDir string
	// Passphrase is used when the URI names no passphrase source. The
	// package never modifies it.
	Passphrase []byte
	// Tokens keeps the PKCS#11 tokens pkcs11 URIs name open; nil refuses
	// pkcs11 URIs. The caller closes it.
	Tokens *Tokens
}

const (
	maxKeyFileSize        = 1 << 20
	maxPassphraseFileSize = 64 << 10
)

// Load reads and decrypts the key uri names, or finds it on its PKCS#11
// token. A missing key file or token object yields an error wrapping
// fs.ErrNotExist.
func Load(uri string, opts Options) (crypto.Signer, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "pkcs11" {
		return loadPKCS11(u.PKCS11, opts)
	}
	path := opts.resolve(u.Path)
	pass, release, err := u.passphrase(opts)
	if err != nil {
		return nil, err
	}
	defer release()
	data, err := readLimited(path, maxKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("kms: read key %s: %w", path, stripPath(err))
	}
	key, err := decryptPEM(data, pass, maxIterations)
	if err != nil {
		return nil, fmt.Errorf("kms: decrypt key %s: %w", path, err)
	}
	return key, nil
}

// Create generates a key of type alg, writes it encrypted where uri names
// (creating missing parent directories with mode 0700, the file with mode
// 0600) and returns it; for a pkcs11 URI it generates the key pair on the
// token. It never overwrites: if the file or a token object with the label
// or id exists, the error wraps fs.ErrExist.
func Create(uri string, alg Algorithm, opts Options) (crypto.Signer, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "pkcs11" {
		return createPKCS11(u.PKCS11, alg, opts)
	}
	path := opts.resolve(u.Path)
	pass, release, err := u.passphrase(opts)
	if err != nil {
		return nil, err
	}
	defer release()
	// Fail fast, before the costly generation and encryption; O_EXCL below
	// settles races.
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("kms: create key %s: %w", path, fs.ErrExist)
	}
	key, err := GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	pemBytes, err := EncryptPEM(key, pass)
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, pemBytes); err != nil {
		return nil, fmt.Errorf("kms: create key %s: %w", path, stripPath(err))
	}
	return key, nil
}

// Exists reports whether the key uri names exists. A file key needs no
// passphrase; a token key needs the PIN, since finding private objects
// takes a login.
func Exists(uri string, opts Options) (bool, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return false, err
	}
	if u.Scheme == "pkcs11" {
		return existsPKCS11(u.PKCS11, opts)
	}
	path := opts.resolve(u.Path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("kms: stat key %s: %w", path, stripPath(err))
	case fi.IsDir():
		return false, fmt.Errorf("kms: key %s is a directory", path)
	}
	return true, nil
}

func (o Options) resolve(path string) string {
	if filepath.IsAbs(path) || o.BaseDir == "" {
		return filepath.Clean(path)
	}
	return filepath.Join(o.BaseDir, path)
}

// passphrase returns the passphrase u names, or opts.Passphrase; release
// wipes the copy read from a file.
func (u KeyURI) passphrase(opts Options) (pass []byte, release func(), err error) {
	noop := func() {}
	switch {
	case u.PassphraseEnv != "":
		v, ok := os.LookupEnv(u.PassphraseEnv)
		if !ok {
			return nil, nil, fmt.Errorf("kms: passphrase environment variable %s is not set", u.PassphraseEnv)
		}
		if v == "" {
			return nil, nil, fmt.Errorf("kms: passphrase environment variable %s is empty", u.PassphraseEnv)
		}
		return []byte(v), noop, nil
	case u.PassphraseFile != "":
		path := opts.resolve(u.PassphraseFile)
		data, err := readLimited(path, maxPassphraseFileSize)
		if err != nil {
			return nil, nil, fmt.Errorf("kms: read passphrase file %s: %w", path, stripPath(err))
		}
		release := func() { clear(data) }
		pass := trimNewline(data)
		if len(pass) == 0 {
			release()
			return nil, nil, fmt.Errorf("kms: passphrase file %s is empty", path)
		}
		return pass, release, nil
	case len(opts.Passphrase) > 0:
		return opts.Passphrase, noop, nil
	}
	return nil, nil, fmt.Errorf("kms: key %s: %w: add ?%s=VAR or ?%s=PATH to the key URI", u.Path, ErrNoPassphrase, paramPassphraseEnv, paramPassphraseFile)
}

// stripPath unwraps an *fs.PathError, whose path the caller's message
// already names.
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// trimNewline drops one trailing "\n" or "\r\n", as editors and echo add.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// readLimited reads a regular file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		clear(data)
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// writeNew creates path (which must not exist) with mode 0600, writes data
// and syncs it; on failure it removes what it created.
func writeNew(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Make the new directory entry durable too; not every platform or
	// file system supports syncing a directory, so this is best effort.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

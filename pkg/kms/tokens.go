package kms

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrWrongPIN is wrapped when a PKCS#11 token refuses the PIN (wrong, or
// locked after too many wrong ones).
var ErrWrongPIN = errors.New("PKCS#11 token refused the PIN")

// Tokens keeps PKCS#11 tokens open for the keys on them: one module
// context, login and session pool per (module, token), shared by every key
// the URIs name, opened on first use. Keys loaded through it sign safely
// from many goroutines at once (sessions come from a pool). The zero value
// is ready to use; Close closes every token, after which keys loaded
// through it stop signing.
//
// A token is logged in with the PIN of the first URI that opens it.
type Tokens struct {
	mu   sync.Mutex
	open map[tokenKey]*token
}

type tokenKey struct{ module, label, serial string }

func keyOf(u PKCS11URI) tokenKey { return tokenKey{u.ModulePath, u.Token, u.Serial} }

// TokenInfo describes an open PKCS#11 token (from C_GetTokenInfo).
type TokenInfo struct {
	Module       string // module path, as the URI names it
	Label        string
	Serial       string
	Manufacturer string
	Model        string
}

// Close logs out of and closes every open token. It is safe to call more
// than once; the Tokens can be used again afterwards.
func (t *Tokens) Close() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for k, tok := range t.open {
		if err := tok.close(); err != nil {
			errs = append(errs, fmt.Errorf("kms: close PKCS#11 token %s: %w", k.describe(), err))
		}
		delete(t.open, k)
	}
	return errors.Join(errs...)
}

// Info opens (if need be) the token the pkcs11 URI names and describes it.
func (t *Tokens) Info(uri string, opts Options) (TokenInfo, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return TokenInfo{}, err
	}
	if u.Scheme != "pkcs11" {
		return TokenInfo{}, fmt.Errorf("kms: %s key URI names no PKCS#11 token", u.Scheme)
	}
	opts.Tokens = t
	tok, err := opts.token(u.PKCS11)
	if err != nil {
		return TokenInfo{}, err
	}
	return tok.info, nil
}

// token returns the open token u names, opening it on first use.
func (o Options) token(u PKCS11URI) (*token, error) {
	t := o.Tokens
	if t == nil {
		return nil, fmt.Errorf("kms: pkcs11 key %s: Options.Tokens is nil; PKCS#11 keys need a Tokens to keep the token open", u.describe())
	}
	k := keyOf(u)
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok := t.open[k]; tok != nil {
		return tok, nil
	}
	pin, release, err := u.pin(o)
	if err != nil {
		return nil, err
	}
	defer release()
	tok, err := openToken(u, pin)
	if err != nil {
		return nil, fmt.Errorf("kms: open PKCS#11 token %s: %w", k.describe(), err)
	}
	if t.open == nil {
		t.open = map[tokenKey]*token{}
	}
	t.open[k] = tok
	return tok, nil
}

// pin reads the PIN u names; release wipes the copy.
func (u PKCS11URI) pin(opts Options) (pin []byte, release func(), err error) {
	if u.PINEnv != "" {
		v, ok := os.LookupEnv(u.PINEnv)
		if !ok || v == "" {
			return nil, nil, fmt.Errorf("kms: PIN environment variable %s is not set or empty", u.PINEnv)
		}
		return []byte(v), func() {}, nil
	}
	path := opts.resolve(u.PINFile)
	data, err := readLimited(path, maxPassphraseFileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("kms: read PIN file %s: %w", path, stripPath(err))
	}
	release = func() { clear(data) }
	pin = trimNewline(data)
	if len(pin) == 0 {
		release()
		return nil, nil, fmt.Errorf("kms: PIN file %s is empty", path)
	}
	return pin, release, nil
}

func (k tokenKey) describe() string {
	if k.label != "" {
		return fmt.Sprintf("%q (module %s)", k.label, k.module)
	}
	return fmt.Sprintf("serial %s (module %s)", k.serial, k.module)
}

// describe names the key u points at, for errors: label and id, never the
// PIN source's contents.
func (u PKCS11URI) describe() string {
	s := keyOf(u).describe()
	if u.Object != "" {
		s = fmt.Sprintf("object %q on token %s", u.Object, s)
	}
	if u.ID != "" {
		s = fmt.Sprintf("id %x, %s", u.ID, s)
	}
	return s
}

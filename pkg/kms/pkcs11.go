//go:build cgo

package kms

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	mpkcs11 "github.com/miekg/pkcs11"
	"go.step.sm/crypto/kms/apiv1"
	"go.step.sm/crypto/kms/pkcs11"
)

// token is an open PKCS#11 token: go.step.sm/crypto's PKCS#11 KMS over a
// crypto11 context, which holds a logged-in session and a session pool.
type token struct {
	kms  *pkcs11.PKCS11
	info TokenInfo
}

func (t *token) close() error { return t.kms.Close() }

// openToken logs into the token u names with pin. The PIN goes to the
// module through apiv1.Options, never into a URI.
func openToken(u PKCS11URI, pin []byte) (*token, error) {
	sel := "token=" + url.QueryEscape(u.Token)
	if u.Serial != "" {
		sel = "serial=" + url.QueryEscape(u.Serial)
	}
	k, err := pkcs11.New(context.Background(), apiv1.Options{
		Type: apiv1.PKCS11,
		URI:  "pkcs11:module-path=" + url.QueryEscape(u.ModulePath) + ";" + sel,
		Pin:  string(pin),
	})
	if err != nil {
		var p11 mpkcs11.Error
		if errors.As(err, &p11) && (p11 == mpkcs11.CKR_PIN_INCORRECT || p11 == mpkcs11.CKR_PIN_LOCKED || p11 == mpkcs11.CKR_PIN_LEN_RANGE) {
			return nil, fmt.Errorf("%w (%s)", ErrWrongPIN, p11.Error())
		}
		return nil, err
	}
	info, err := tokenInfo(u)
	if err != nil {
		_ = k.Close()
		return nil, err
	}
	return &token{kms: k, info: info}, nil
}

// tokenInfo reads the token's description through a second handle on the
// module that crypto11 has already initialised; it neither initialises
// nor finalises the module.
func tokenInfo(u PKCS11URI) (TokenInfo, error) {
	ctx := mpkcs11.New(u.ModulePath)
	if ctx == nil {
		return TokenInfo{}, errors.New("cannot load the module")
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil && !errors.Is(err, mpkcs11.Error(mpkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		return TokenInfo{}, fmt.Errorf("token info: %w", err)
	}
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("token info: %w", err)
	}
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if (u.Token != "" && ti.Label == u.Token) || (u.Serial != "" && ti.SerialNumber == u.Serial) {
			return TokenInfo{Module: u.ModulePath, Label: ti.Label, Serial: ti.SerialNumber,
				Manufacturer: ti.ManufacturerID, Model: ti.Model}, nil
		}
	}
	return TokenInfo{}, errors.New("token info: token not found")
}

// objectURI is the URI go.step.sm/crypto finds the key pair by: the id in
// hex (which it decodes), the label query-escaped. It carries no secret,
// so its errors may quote it.
func objectURI(id []byte, label string) string {
	s := "pkcs11:"
	if len(id) > 0 {
		s += "id=" + hex.EncodeToString(id)
	}
	if label != "" {
		if len(id) > 0 {
			s += ";"
		}
		s += "object=" + url.QueryEscape(label)
	}
	return s
}

func loadPKCS11(u PKCS11URI, opts Options) (crypto.Signer, error) {
	if !u.hasKey() {
		return nil, fmt.Errorf("kms: pkcs11 key URI for token %s names no key; add object=LABEL or id=ID", keyOf(u).describe())
	}
	tok, err := opts.token(u)
	if err != nil {
		return nil, err
	}
	s, err := tok.kms.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: objectURI([]byte(u.ID), u.Object)})
	if errors.Is(err, apiv1.NotFoundError{}) {
		return nil, fmt.Errorf("kms: pkcs11 key %s: %w", u.describe(), fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: pkcs11 key %s: %w", u.describe(), err)
	}
	return s, nil
}

func existsPKCS11(u PKCS11URI, opts Options) (bool, error) {
	if !u.hasKey() {
		return false, fmt.Errorf("kms: pkcs11 key URI for token %s names no key; add object=LABEL or id=ID", keyOf(u).describe())
	}
	tok, err := opts.token(u)
	if err != nil {
		return false, err
	}
	return tok.exists([]byte(u.ID), u.Object)
}

func (t *token) exists(id []byte, label string) (bool, error) {
	_, err := t.kms.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: objectURI(id, label)})
	switch {
	case errors.Is(err, apiv1.NotFoundError{}):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("kms: pkcs11 find key: %w", err)
	}
	return true, nil
}

// p11Algorithms maps Algorithm to what go.step.sm/crypto generates.
var p11Algorithms = map[Algorithm]struct {
	sig  apiv1.SignatureAlgorithm
	bits int
}{
	ECDSAP256: {apiv1.ECDSAWithSHA256, 0},
	ECDSAP384: {apiv1.ECDSAWithSHA384, 0},
	RSA2048:   {apiv1.SHA256WithRSA, 2048},
	RSA3072:   {apiv1.SHA256WithRSA, 3072},
	RSA4096:   {apiv1.SHA256WithRSA, 4096},
}

// createPKCS11 generates a non-extractable key pair on the token with
// CKA_LABEL the object and CKA_ID u.KeyID(). It refuses when a pair with
// that label or that id exists.
func createPKCS11(u PKCS11URI, alg Algorithm, opts Options) (crypto.Signer, error) {
	a, ok := p11Algorithms[alg]
	switch {
	case alg == Ed25519:
		return nil, fmt.Errorf("kms: pkcs11 key %s: Ed25519: %w: crypto11 has no EdDSA; keep this key in a file", u.describe(), ErrUnsupported)
	case !ok:
		return nil, fmt.Errorf("kms: unknown key algorithm %q", alg)
	case u.Object == "":
		return nil, fmt.Errorf("kms: pkcs11 key URI for token %s names no object label; a new key needs object=LABEL", keyOf(u).describe())
	}
	tok, err := opts.token(u)
	if err != nil {
		return nil, err
	}
	id := u.KeyID()
	for _, q := range []struct {
		id    []byte
		label string
	}{{nil, u.Object}, {id, ""}} {
		found, err := tok.exists(q.id, q.label)
		if err != nil {
			return nil, err
		}
		if found {
			return nil, fmt.Errorf("kms: create pkcs11 key %s: a key with this label or id (%x): %w", u.describe(), id, fs.ErrExist)
		}
	}
	name := objectURI(id, u.Object)
	resp, err := tok.kms.CreateKey(&apiv1.CreateKeyRequest{Name: name, SignatureAlgorithm: a.sig, Bits: a.bits})
	if err != nil {
		return nil, fmt.Errorf("kms: create pkcs11 key %s: %w", u.describe(), err)
	}
	s, err := tok.kms.CreateSigner(&resp.CreateSignerRequest)
	if err != nil {
		return nil, fmt.Errorf("kms: pkcs11 key %s: %w", u.describe(), err)
	}
	return s, nil
}

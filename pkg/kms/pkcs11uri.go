package kms

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Attributes of PKCS#11 key URIs (RFC 7512 §2.3).
const (
	p11Token      = "token"
	p11Serial     = "serial"
	p11ID         = "id"
	p11Object     = "object"
	p11Type       = "type"
	p11ModulePath = "module-path"
	p11PINSource  = "pin-source"
	p11PINValue   = "pin-value"
)

// PKCS11URI is the PKCS#11 part of a parsed key URI (RFC 7512):
//
//	pkcs11:token=yagona;object=issuing-ca?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/hsm-pin
//	pkcs11:serial=8f1a2b3c4d5e6f70;id=%01%02;object=ocsp?module-path=...&pin-source=env:YAGONA_HSM_PIN
//
// Path attributes (separated by ';'): token (the token label) or serial
// (the token serial number), exactly one; object (CKA_LABEL) and id
// (CKA_ID, raw bytes, usually percent-encoded), at least one to name a
// key; type, which may only be "private". Query attributes (separated by
// '&'): module-path, the PKCS#11 library, required; pin-source, where the
// user PIN comes from, required: file:PATH or a bare PATH (a file holding
// the PIN, one trailing newline ignored; relative paths resolve against
// Options.BaseDir) or env:VAR (an environment variable, a Yagona
// extension). pin-value is refused: a PIN in a URI ends up in
// configuration files and logs.
type PKCS11URI struct {
	Token      string // token label
	Serial     string // token serial number
	ID         string // CKA_ID, raw bytes
	Object     string // CKA_LABEL
	ModulePath string
	PINFile    string // pin-source=file:PATH
	PINEnv     string // pin-source=env:VAR
}

// KeyID returns the CKA_ID a key created under u gets: ID, or, when the URI
// names none, the first 8 bytes of SHA-256 of the object label, so the
// same URI always names the same pair and tools that find keys by CKA_ID
// (as crypto11 needs to pair private and public keys) find it.
func (u PKCS11URI) KeyID() []byte {
	if u.ID != "" {
		return []byte(u.ID)
	}
	sum := sha256.Sum256([]byte(u.Object))
	return sum[:8]
}

// WithObject returns u naming the object label instead of u's key: the
// token, module and PIN source stay, the id is dropped. It derives the
// URIs of keys made at run time (token-signing keys) from a base URI.
func (u PKCS11URI) WithObject(label string) PKCS11URI {
	u.ID, u.Object = "", label
	return u
}

// parsePKCS11 parses what follows "pkcs11:". Errors never quote values.
func parsePKCS11(rest string) (PKCS11URI, error) {
	var u PKCS11URI
	if strings.ContainsRune(rest, '#') {
		return u, errors.New("kms: pkcs11 key URI must not have a fragment")
	}
	rawPath, rawQuery, _ := strings.Cut(rest, "?")
	seen := map[string]bool{}
	attr := func(part, sep string) (name, value string, err error) {
		name, raw, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return "", "", fmt.Errorf("kms: pkcs11 key URI attribute is not name=value (separate attributes with %q)", sep)
		}
		if seen[name] {
			return "", "", fmt.Errorf("kms: pkcs11 key URI gives attribute %q more than once", name)
		}
		seen[name] = true
		value, err = url.PathUnescape(raw)
		if err != nil {
			return "", "", fmt.Errorf("kms: pkcs11 key URI attribute %q has a malformed percent-escape", name)
		}
		if strings.IndexByte(value, 0) >= 0 && name != p11ID {
			return "", "", fmt.Errorf("kms: pkcs11 key URI attribute %q contains a NUL byte", name)
		}
		return name, value, nil
	}
	if rawPath != "" {
		for part := range strings.SplitSeq(rawPath, ";") {
			name, v, err := attr(part, ";")
			if err != nil {
				return u, err
			}
			switch name {
			case p11Token:
				u.Token = v
			case p11Serial:
				u.Serial = v
			case p11ID:
				u.ID = v
			case p11Object:
				u.Object = v
			case p11Type:
				if v != "private" {
					return u, errors.New("kms: pkcs11 key URI type must be private (the private key of a key pair)")
				}
			case p11PINValue, p11ModulePath, p11PINSource:
				return u, fmt.Errorf("kms: pkcs11 key URI attribute %s belongs in the query, after '?' (RFC 7512)", name)
			default:
				return u, fmt.Errorf("kms: pkcs11 key URI has unknown path attribute %q (want token or serial, id, object)", name)
			}
		}
	}
	if rawQuery != "" {
		for part := range strings.SplitSeq(rawQuery, "&") {
			name, v, err := attr(part, "&")
			if err != nil {
				return u, err
			}
			switch name {
			case p11ModulePath:
				u.ModulePath = v
			case p11PINSource:
				if err := u.setPINSource(v); err != nil {
					return u, err
				}
			case p11PINValue:
				return u, errors.New("kms: pkcs11 key URI must not carry pin-value; name a file or environment variable with pin-source")
			default:
				return u, fmt.Errorf("kms: pkcs11 key URI has unknown query attribute %q (want module-path, pin-source)", name)
			}
		}
	}
	return u, u.validate()
}

func (u *PKCS11URI) setPINSource(v string) error {
	if env, ok := strings.CutPrefix(v, "env:"); ok {
		if !validEnvName(env) {
			return errors.New("kms: pkcs11 key URI pin-source env: names no valid environment variable")
		}
		u.PINEnv = env
		return nil
	}
	path := v
	if p, ok := strings.CutPrefix(v, "file:"); ok {
		path = p
		if rest, ok := strings.CutPrefix(p, "//"); ok {
			host, abs, found := strings.Cut(rest, "/")
			if !found || (host != "" && !strings.EqualFold(host, "localhost")) {
				return errors.New("kms: pkcs11 key URI pin-source names a host; write file:PATH or file:///PATH")
			}
			path = "/" + abs
		}
	} else if scheme, _, ok := strings.Cut(v, ":"); ok && validScheme(scheme) {
		return fmt.Errorf("kms: pkcs11 key URI pin-source scheme %q: %w (want file: or env:)", scheme, ErrUnsupported)
	}
	if path == "" {
		return errors.New("kms: pkcs11 key URI pin-source names an empty path")
	}
	u.PINFile = path
	return nil
}

func (u PKCS11URI) validate() error {
	var errs []error
	switch {
	case u.Token == "" && u.Serial == "":
		errs = append(errs, errors.New("kms: pkcs11 key URI names no token; add token=LABEL or serial=SERIAL"))
	case u.Token != "" && u.Serial != "":
		errs = append(errs, errors.New("kms: pkcs11 key URI names the token twice; keep one of token and serial"))
	}
	if u.ModulePath == "" {
		errs = append(errs, errors.New("kms: pkcs11 key URI names no module; add ?module-path=/path/to/module.so"))
	}
	if u.PINFile == "" && u.PINEnv == "" {
		errs = append(errs, errors.New("kms: pkcs11 key URI names no PIN; add pin-source=file:PATH or pin-source=env:VAR"))
	}
	return errors.Join(errs...)
}

// hasKey reports whether u names a key (an object label or id) rather
// than just a token.
func (u PKCS11URI) hasKey() bool { return u.ID != "" || u.Object != "" }

// String returns u in canonical form, starting "pkcs11:".
func (u PKCS11URI) String() string {
	var path []string
	add := func(name, v string) {
		if v != "" {
			path = append(path, name+"="+escapeAttr(v, false))
		}
	}
	add(p11Token, u.Token)
	add(p11Serial, u.Serial)
	if u.ID != "" {
		path = append(path, p11ID+"="+escapeAttr(u.ID, true))
	}
	add(p11Object, u.Object)
	s := "pkcs11:" + strings.Join(path, ";") + "?" + p11ModulePath + "=" + escapeAttr(u.ModulePath, false)
	switch {
	case u.PINEnv != "":
		s += "&" + p11PINSource + "=env:" + u.PINEnv
	case strings.HasPrefix(u.PINFile, "//"):
		s += "&" + p11PINSource + "=file://" + escapeAttr(u.PINFile, false)
	case u.PINFile != "":
		s += "&" + p11PINSource + "=file:" + escapeAttr(u.PINFile, false)
	}
	return s
}

// escapeAttr percent-encodes an attribute value: every byte with all set,
// else all but unreserved characters and '/' and ':'.
func escapeAttr(v string, all bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !all && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/:", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

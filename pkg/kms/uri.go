package kms

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Query parameters of file key URIs.
const (
	paramPassphraseEnv  = "passphrase-env"
	paramPassphraseFile = "passphrase-file"
)

// KeyURI is a parsed key URI. Only the file scheme exists today:
//
//	file:keys/ca.key?passphrase-env=YAGONA_CA_PASSPHRASE   relative path
//	file:/etc/yagona/ca.key?passphrase-file=/run/secrets/ca absolute path
//	file:///etc/yagona/ca.key                              absolute, passphrase from Options
//
// The path is percent-decoded; relative paths are resolved against
// Options.BaseDir (or the working directory) when the key is used. At most
// one passphrase source may be named; with none, Options.Passphrase is used.
//
// PKCS#11 URIs (RFC 7512) name a key on a hardware token; their fields
// are in PKCS11 (see PKCS11URI for the grammar), and the file fields are
// empty.
type KeyURI struct {
	// Scheme is "file" or "pkcs11".
	Scheme string
	// Path is the key file's path, decoded, as written (not yet resolved
	// against a base directory).
	Path string
	// PassphraseEnv names the environment variable holding the passphrase.
	PassphraseEnv string
	// PassphraseFile is the path of a file holding the passphrase (one
	// trailing newline is ignored); relative paths resolve like Path.
	PassphraseFile string
	// PKCS11 is the token and key a pkcs11 URI names.
	PKCS11 PKCS11URI
}

// ParseURI parses and validates a key URI. Errors never quote query values,
// so a passphrase pasted into a URI by mistake does not reach the logs.
func ParseURI(s string) (KeyURI, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !validScheme(scheme) {
		return KeyURI{}, errors.New("kms: key URI has no scheme; write file:<path> or pkcs11:<attributes>")
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "file":
	case "pkcs11":
		p, err := parsePKCS11(rest)
		if err != nil {
			return KeyURI{}, err
		}
		return KeyURI{Scheme: scheme, PKCS11: p}, nil
	default:
		return KeyURI{}, fmt.Errorf("kms: key URI scheme %q: %w", scheme, ErrUnsupported)
	}
	u := KeyURI{Scheme: scheme}

	if strings.ContainsRune(rest, '#') {
		return KeyURI{}, errors.New("kms: file key URI must not have a fragment")
	}
	rawPath, rawQuery, hasQuery := strings.Cut(rest, "?")
	if p, ok := strings.CutPrefix(rawPath, "//"); ok {
		// An authority: only the local host is allowed, and the path after
		// it is absolute.
		host, path, found := strings.Cut(p, "/")
		if host != "" && !strings.EqualFold(host, "localhost") {
			return KeyURI{}, errors.New("kms: file key URI names a host; write file:<relative path> or file:///<absolute path>")
		}
		rawPath = ""
		if found {
			rawPath = "/" + path
		}
	}
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return KeyURI{}, errors.New("kms: file key URI path has a malformed percent-escape")
	}
	if path == "" {
		return KeyURI{}, errors.New("kms: file key URI has an empty path")
	}
	if strings.IndexByte(path, 0) >= 0 {
		return KeyURI{}, errors.New("kms: file key URI path contains a NUL byte")
	}
	u.Path = path

	if hasQuery {
		if err := u.parseQuery(rawQuery); err != nil {
			return KeyURI{}, err
		}
	}
	return u, nil
}

func (u *KeyURI) parseQuery(rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return errors.New("kms: file key URI query is malformed")
	}
	for name, values := range q {
		if len(values) != 1 {
			return fmt.Errorf("kms: file key URI gives parameter %q more than once", name)
		}
		v := values[0]
		switch name {
		case paramPassphraseEnv:
			if !validEnvName(v) {
				return fmt.Errorf("kms: file key URI parameter %s is not a valid environment variable name", paramPassphraseEnv)
			}
			u.PassphraseEnv = v
		case paramPassphraseFile:
			if v == "" || strings.IndexByte(v, 0) >= 0 {
				return fmt.Errorf("kms: file key URI parameter %s is not a valid path", paramPassphraseFile)
			}
			u.PassphraseFile = v
		default:
			return fmt.Errorf("kms: file key URI has unknown parameter %q (want %s or %s)", name, paramPassphraseEnv, paramPassphraseFile)
		}
	}
	if u.PassphraseEnv != "" && u.PassphraseFile != "" {
		return fmt.Errorf("kms: file key URI names two passphrase sources; keep one of %s and %s", paramPassphraseEnv, paramPassphraseFile)
	}
	return nil
}

// String returns the URI in canonical form: ParseURI(u.String()) == u for
// every u that ParseURI returned. Absolute paths are written file:///path.
func (u KeyURI) String() string {
	if u.Scheme == "pkcs11" {
		return u.PKCS11.String()
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if strings.HasPrefix(u.Path, "/") {
		b.WriteString("//")
	}
	b.WriteString(escapePath(u.Path))
	switch {
	case u.PassphraseEnv != "":
		b.WriteString("?" + paramPassphraseEnv + "=" + url.QueryEscape(u.PassphraseEnv))
	case u.PassphraseFile != "":
		b.WriteString("?" + paramPassphraseFile + "=" + url.QueryEscape(u.PassphraseFile))
	}
	return b.String()
}

// escapePath percent-encodes every byte of p except unreserved characters,
// '/' and a few harmless sub-delimiters, so that '?', '#' and '%' survive a
// round trip.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~/:@!$&'()*+,;=", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// validScheme reports whether s is an RFC 3986 scheme.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

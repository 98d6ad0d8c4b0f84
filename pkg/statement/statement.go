// Package statement is the login statement: the text a person signs with
// their authentication key to log in to a service through the identity
// provider (docs/login.md). It replaces bare challenge bytes so that a
// login proof can never be mistaken for, or obtained as, the signature of
// a document: the text says in words what it is, names who asks for it
// and for whom, and starts with a line no document plausibly starts with,
// so every signing path can recognise one (IsLoginStatement) and refuse
// to sign it as a document, and the validator can refuse to call it one.
//
// Format, version 2 (UTF-8, ten lines separated by "\n", no final
// newline, at most MaxSize bytes, each field "name: value" in this exact
// order, values without leading or trailing space or control characters):
//
//	Yagona login statement v2
//	I log in with my authentication key to the service named below. This is not the signature of a document.
//	issuer: <the identity provider's issuer URL>
//	client-id: <the service's client id>
//	client-name: <the service's name>
//	origin: <scheme://host[:port] of the login page that asks>
//	request: <the login request id>
//	nonce: <at least 256 random bits, base64url without padding>
//	issued-at: <RFC 3339, UTC, whole seconds>
//	expires-at: <RFC 3339, UTC, whole seconds, after issued-at>
//
// Version 1 (a first line "yagona-login-v1" and bare fields) is no
// longer issued nor accepted, but IsLoginStatement still recognises it.
// A new version changes the number on the first line; Parse refuses any
// version but its own (ErrVersion).
package statement

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Header is the first line of a version 2 statement.
const Header = "Yagona login statement v2"

// Purpose is the second line: what signing the statement means, in words.
const Purpose = "I log in with my authentication key to the service named below. This is not the signature of a document."

// MaxSize is the largest statement Parse reads, in bytes.
const MaxSize = 2048

// maxValue caps one field's value, in bytes.
const maxValue = 256

// Statement is the content of a login statement. Its zero value is not a
// valid statement: every field is required.
type Statement struct {
	Issuer     string    // the identity provider's issuer URL
	ClientID   string    // the service the person logs in to
	ClientName string    // the service's name, as the person knows it
	Origin     string    // scheme://host[:port] of the login page that asks
	Request    string    // the login request id
	Nonce      string    // at least 256 random bits, base64url, no padding
	IssuedAt   time.Time // kept to the second, in UTC
	ExpiresAt  time.Time // kept to the second, in UTC; after IssuedAt
}

// Refusals of Parse and Build; a *FieldError wraps ErrMissing or ErrInvalid.
var (
	// ErrNotStatement is content whose first line is not a statement's.
	ErrNotStatement = errors.New("statement: not a login statement")
	// ErrVersion is a statement of another version than Header's.
	ErrVersion = errors.New("statement: unsupported login statement version")
	// ErrSize is content past MaxSize.
	ErrSize = errors.New("statement: too large")
	// ErrEncoding is content that is not UTF-8 text without control
	// characters other than the "\n" between lines.
	ErrEncoding = errors.New("statement: not UTF-8 text of single lines")
	// ErrLines is content with missing or extra lines.
	ErrLines = errors.New("statement: wrong number of lines")
	// ErrPurpose is a statement whose second line is not Purpose.
	ErrPurpose = errors.New("statement: the purpose line is altered")
	// ErrMissing is a field line that is missing or out of order.
	ErrMissing = errors.New("missing or out of order")
	// ErrInvalid is a field whose value is malformed.
	ErrInvalid = errors.New("malformed")
	// ErrTimes is a statement that expires before it is issued.
	ErrTimes = errors.New("statement: expires-at is not after issued-at")
)

// FieldError is a refused field: Field names it ("nonce"), Err is
// ErrMissing or ErrInvalid.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "statement: field " + e.Field + ": " + e.Err.Error() }

// Unwrap returns ErrMissing or ErrInvalid.
func (e *FieldError) Unwrap() error { return e.Err }

// field is one field of the format: its name, and its value's check.
type field struct {
	name  string
	valid func(string) bool
}

// fields are the format's fields after the two fixed lines, in order.
var fields = []field{
	{"issuer", validIssuer},
	{"client-id", validToken},
	{"client-name", func(string) bool { return true }},
	{"origin", validOrigin},
	{"request", validToken},
	{"nonce", validNonce},
	{"issued-at", validTime},
	{"expires-at", validTime},
}

// Build returns the statement's text. It refuses what Parse would refuse,
// so that its output always parses back to s (times to the second, UTC).
func Build(s Statement) ([]byte, error) {
	values := s.values()
	lines := make([]string, 0, 2+len(fields))
	lines = append(lines, Header, Purpose)
	for i, f := range fields {
		if err := checkValue(f, values[i]); err != nil {
			return nil, err
		}
		lines = append(lines, f.name+": "+values[i])
	}
	if !s.ExpiresAt.Truncate(time.Second).After(s.IssuedAt.Truncate(time.Second)) {
		return nil, ErrTimes
	}
	out := []byte(strings.Join(lines, "\n"))
	if len(out) > MaxSize {
		return nil, ErrSize
	}
	return out, nil
}

// values are s's field values as text, in the order of fields.
func (s Statement) values() []string {
	return []string{s.Issuer, s.ClientID, s.ClientName, s.Origin, s.Request, s.Nonce,
		formatTime(s.IssuedAt), formatTime(s.ExpiresAt)}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// Parse reads a version 2 statement, strictly: the exact lines and field
// order of the format, nothing more. Its errors are the package's
// sentinels and *FieldError.
func Parse(content []byte) (Statement, error) {
	var s Statement
	if len(content) > MaxSize {
		return s, ErrSize
	}
	if !IsLoginStatement(content) {
		return s, ErrNotStatement
	}
	if !utf8.Valid(content) || bytes.ContainsFunc(content, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
		return s, ErrEncoding
	}
	lines := strings.Split(string(content), "\n")
	if lines[0] != Header {
		if strings.HasPrefix(lines[0], "Yagona login statement v") {
			return s, ErrVersion
		}
		return s, ErrNotStatement
	}
	if len(lines) != 2+len(fields) {
		return s, ErrLines
	}
	if lines[1] != Purpose {
		return s, ErrPurpose
	}
	values := make([]string, len(fields))
	for i, f := range fields {
		v, ok := strings.CutPrefix(lines[2+i], f.name+": ")
		if !ok {
			return s, &FieldError{f.name, ErrMissing}
		}
		if err := checkValue(f, v); err != nil {
			return s, err
		}
		values[i] = v
	}
	return fromValues(values)
}

// fromValues builds the statement of checked field values.
func fromValues(v []string) (Statement, error) {
	s := Statement{Issuer: v[0], ClientID: v[1], ClientName: v[2], Origin: v[3], Request: v[4], Nonce: v[5]}
	s.IssuedAt, _ = time.Parse(time.RFC3339, v[6])
	s.ExpiresAt, _ = time.Parse(time.RFC3339, v[7])
	if !s.ExpiresAt.After(s.IssuedAt) {
		return Statement{}, ErrTimes
	}
	return s, nil
}

// checkValue checks one field's value: present, plain text, then the
// field's own rule.
func checkValue(f field, v string) error {
	if v == "" {
		return &FieldError{f.name, ErrMissing}
	}
	plain := len(v) <= maxValue && utf8.ValidString(v) && strings.TrimSpace(v) == v &&
		!strings.ContainsFunc(v, unicode.IsControl)
	if !plain || !f.valid(v) {
		return &FieldError{f.name, ErrInvalid}
	}
	return nil
}

// validIssuer: an absolute http(s) URL without query or fragment.
func validIssuer(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil && !strings.ContainsAny(v, " ")
}

// validOrigin: scheme://host[:port], as a browser's Origin header.
func validOrigin(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		v == u.Scheme+"://"+u.Host && u.User == nil
}

// validToken: printable ASCII without spaces (ids).
func validToken(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' })
}

// validNonce: at least 256 bits, base64url without padding.
func validNonce(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) >= 32 && base64.RawURLEncoding.EncodeToString(b) == v
}

// validTime: RFC 3339 in its one canonical form here (UTC "Z", whole
// seconds).
func validTime(v string) bool {
	t, err := time.Parse(time.RFC3339, v)
	return err == nil && t.UTC().Format(time.RFC3339) == v
}

// Package httpjson is the JSON edge of Yagona's HTTP APIs: strict request
// decoding with a body limit, bearer-token parsing, JSON responses, and
// errors as RFC 9457 problem details.
//
// Every API reads its JSON bodies through Decode, so that they all refuse
// the same things the same way: another media type (415), a body over the
// limit (413), unknown fields, a second value or trailing data (400).
// Decode returns an *Error that the caller answers in its protocol's own
// format: a problem document (WriteProblem) for Yagona's own APIs, an
// OAuth error (RFC 6749 §5.2) at the OAuth endpoints.
//
// A problem document (application/problem+json, RFC 9457 §3) carries the
// standard members type, title, status and detail, and two extension
// members that Yagona's clients have always read: "error", a stable
// machine-readable code, and "message", the same text as detail. Details
// never carry internals: the caller logs those.
package httpjson

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// DefaultMaxBytes is the body limit of Decode when Rules.MaxBytes is zero.
const DefaultMaxBytes = 1 << 20

// Error codes of requests Decode refuses.
const (
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeTooLarge             = "too_large"
	CodeBadRequest           = "bad_request"
	CodeBadJSON              = "bad_json"
)

// Error is a request body Decode refused: the HTTP status to answer with,
// a stable code and a detail safe to send (it never echoes the input).
type Error struct {
	Status int
	Code   string
	Detail string
}

func (e *Error) Error() string { return "httpjson: " + e.Code + ": " + e.Detail }

// Problem returns the problem document that answers e.
func (e *Error) Problem() Problem { return NewProblem(e.Status, e.Code, e.Detail) }

// Rules are what Decode accepts. The zero value accepts a body of at most
// DefaultMaxBytes, a missing Content-Type (but no other type than
// application/json), and no empty body.
type Rules struct {
	MaxBytes     int64 // 0: DefaultMaxBytes
	EmptyOK      bool  // an empty body leaves v at its zero value
	TypeRequired bool  // Content-Type: application/json must be present
}

// Decode reads one JSON value of r's body into v under rules: no unknown
// fields, nothing after the value. A refusal is an *Error.
func Decode(w http.ResponseWriter, r *http.Request, rules Rules, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" || rules.TypeRequired {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Content-Type must be application/json"}
		}
	}
	limit := rules.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)}
	}
	if err != nil {
		return &Error{http.StatusBadRequest, CodeBadRequest, "could not read the request body"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if rules.EmptyOK {
			return nil
		}
		return &Error{http.StatusBadRequest, CodeBadJSON, "request body is empty"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &Error{http.StatusBadRequest, CodeBadJSON, "request body is not the expected JSON: " + describe(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{http.StatusBadRequest, CodeBadJSON, "request body has data after the JSON value"}
	}
	return nil
}

// describe keeps decoder errors short and free of echoed input.
func describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	// json reports an unknown field as `json: unknown field "name"`; the
	// name is the caller's own input, so it is cut short.
	s := strings.TrimPrefix(err.Error(), "json: ")
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// Bearer returns the token of an "Authorization: Bearer <token>" header
// (RFC 6750 §2.1; the scheme is case-insensitive), and whether there was
// one.
func Bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || subtle.ConstantTimeCompare([]byte(strings.ToLower(h[:len(prefix)])), []byte(prefix)) != 1 {
		return "", false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	return tok, tok != ""
}

// Write sends v as JSON with status, not to be cached (Cache-Control:
// no-store, as RFC 6749 §5.1 asks of token responses and as suits every
// answer about a person).
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	write(w, status, "application/json", v)
}

// WriteCached sends v as JSON with status, leaving caching to the headers
// the caller set (discovery documents, key sets).
func WriteCached(w http.ResponseWriter, status int, v any) {
	write(w, status, "application/json", v)
}

func write(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, contentType = http.StatusInternalServerError, "application/problem+json"
		body, _ = json.Marshal(NewProblem(status, "internal", "internal error"))
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type   string `json:"type,omitempty"` // a URI; empty means "about:blank" (§4.2.1)
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is the extension member "error": a stable code clients branch on.
	Code string `json:"error"`
	// Message is the extension member "message", the same text as Detail,
	// kept for clients written before problem details.
	Message string `json:"message,omitempty"`
}

// NewProblem is the problem of status with code and detail; the title is
// the status text (§4.2.1: with type about:blank, the title is the
// status's phrase).
func NewProblem(status int, code, detail string) Problem {
	return Problem{Title: http.StatusText(status), Status: status, Detail: detail, Code: code, Message: detail}
}

// WriteProblem sends p as application/problem+json, not to be cached.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Message == "" {
		p.Message = p.Detail
	}
	w.Header().Set("Cache-Control", "no-store")
	write(w, p.Status, "application/problem+json", p)
}

// WriteError answers a Decode refusal (or any *Error in err's chain) as a
// problem document and reports true; it reports false, writing nothing,
// for other errors.
func WriteError(w http.ResponseWriter, err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	WriteProblem(w, e.Problem())
	return true
}

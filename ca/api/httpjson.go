package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/yagona/yagona/ca"
)

// Problem is the JSON body of every error response.
type Problem struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

var kindStatus = map[ca.Kind]int{
	ca.KindInvalid:      http.StatusBadRequest,
	ca.KindUnauthorized: http.StatusUnauthorized,
	ca.KindForbidden:    http.StatusForbidden,
	ca.KindNotFound:     http.StatusNotFound,
	ca.KindConflict:     http.StatusConflict,
	ca.KindRateLimited:  http.StatusTooManyRequests,
	ca.KindUnavailable:  http.StatusServiceUnavailable,
	ca.KindInternal:     http.StatusInternalServerError,
}

// writeError maps a domain error to its status code, once, here at the
// edge. Internal details are logged, never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := ca.AsError(err)
	status := kindStatus[e.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := e.Message
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
		if e.Kind == ca.KindInternal {
			msg = "internal error"
		}
	}
	if e.Kind == ca.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
	}
	writeJSON(w, status, Problem{Error: e.Code, Message: msg})
}

func problem(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, Problem{Error: code, Message: fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal","message":"internal error"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeJSON reads a JSON object of at most limit bytes into v, refusing
// unknown fields, trailing data and other content types. An empty body is
// allowed when emptyOK, leaving v at its zero value.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, emptyOK bool) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			problem(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
			return false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		problem(w, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than %d bytes", limit)
		return false
	}
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_request", "could not read the request body")
		return false
	}
	if len(body) == 0 && emptyOK {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		problem(w, http.StatusBadRequest, "bad_json", "request body is not the expected JSON object: %v", jsonErrText(err))
		return false
	}
	if dec.More() {
		problem(w, http.StatusBadRequest, "bad_json", "request body has data after the JSON object")
		return false
	}
	return true
}

// jsonErrText keeps decoder errors short and free of echoed input.
func jsonErrText(err error) string {
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
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

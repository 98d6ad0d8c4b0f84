package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/pkg/httpjson"
)

// TestWriteError: every error is a problem document with the status of
// its kind, the domain's code, and no internals.
func TestWriteError(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		status        int
		code, message string
		authenticate  bool
	}{
		{"invalid", &ca.Error{Kind: ca.KindInvalid, Code: "weak_key", Message: "too short"}, 400, "weak_key", "too short", false},
		{"unauthorized", &ca.Error{Kind: ca.KindUnauthorized, Code: "invalid_code", Message: "no"}, 401, "invalid_code", "no", true},
		{"not found, wrapped", fmt.Errorf("api: reading: %w", &ca.Error{Kind: ca.KindNotFound, Code: "not_found", Message: "no such certificate"}), 404, "not_found", "no such certificate", false},
		{"rate limited", &ca.Error{Kind: ca.KindRateLimited, Code: "too_many_attempts", Message: "locked"}, 429, "too_many_attempts", "locked", false},
		{"unavailable", &ca.Error{Kind: ca.KindUnavailable, Code: "unavailable", Message: "try later", Err: errors.New("dial tcp: refused")}, 503, "unavailable", "try later", false},
		{"internal hides its message", &ca.Error{Kind: ca.KindInternal, Code: "internal", Message: "sql: secret detail"}, 500, "internal", "internal error", false},
		{"not a domain error", errors.New("boom"), 500, "internal", "internal error", false},
		{"a refused body", &httpjson.Error{Status: 413, Code: httpjson.CodeTooLarge, Detail: "too big"}, 413, "too_large", "too big", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, httptest.NewRequest(http.MethodPost, "/api/v1/x", nil), slog.New(slog.DiscardHandler), tc.err)
			var p httpjson.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || w.Header().Get("Content-Type") != "application/problem+json" ||
				p.Status != tc.status || p.Code != tc.code || p.Message != tc.message || p.Detail != tc.message {
				t.Errorf("%d %q %+v", w.Code, w.Header().Get("Content-Type"), p)
			}
			if got := w.Header().Get("WWW-Authenticate") != ""; got != tc.authenticate {
				t.Errorf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

package validation

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yagona/yagona/pkg/httpjson"
)

// TestHandlerRefusals: a refused request is a problem document whose code
// is the status phrase.
func TestHandlerRefusals(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"no content type", "", `{"signature":"MAA="}`, 415},
		{"text", "text/plain", "x", 415},
		{"malformed JSON", "application/json", `{"signature":`, 400},
		{"unknown field", "application/json", `{"signature":"MAA=","admin":true}`, 400},
		{"trailing data", "application/json", `{"signature":"MAA="} {}`, 400},
		{"empty signature", "application/json", `{"signature":""}`, 400},
		{"document not base64", "application/json", `{"signature":"MAA=","document":"%%"}`, 400},
		{"no signature part", "multipart/form-data; boundary=x", "--x--\r\n", 400},
	}
	h := Handler(&Validator{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/signatures/verify", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var p httpjson.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || w.Header().Get("Content-Type") != "application/problem+json" ||
				p.Status != tc.status || p.Code != http.StatusText(tc.status) || p.Detail == "" || p.Message != p.Detail {
				t.Errorf("%d %q %+v", w.Code, w.Header().Get("Content-Type"), p)
			}
		})
	}
}

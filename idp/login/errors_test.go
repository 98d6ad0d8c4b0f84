package login

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDecode: every refusal of a login step's body is an invalid_request,
// with the status pkg/httpjson gives it.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body string
		status            int // 0: accepted
	}{
		{"ok", "application/json", `{"request":"r"}`, 0},
		{"ok with charset", "application/json; charset=utf-8", `{"request":"r"}`, 0},
		{"no type", "", `{"request":"r"}`, http.StatusUnsupportedMediaType},
		{"other type", "text/plain", `{"request":"r"}`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"request":"` + strings.Repeat("r", 64) + `"}`, http.StatusRequestEntityTooLarge},
		{"empty", "application/json", ``, http.StatusBadRequest},
		{"unknown field", "application/json", `{"other":1}`, http.StatusBadRequest},
		{"wrong type", "application/json", `{"request":1}`, http.StatusBadRequest},
		{"trailing", "application/json", `{"request":"r"} {}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			var in struct {
				Request string `json:"request"`
			}
			e := Decode(httptest.NewRecorder(), r, 32, &in)
			switch {
			case tc.status == 0 && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.status == 0:
				if in.Request != "r" {
					t.Fatalf("decoded %+v", in)
				}
			case e == nil || e.Status != tc.status || e.Code != CodeInvalidRequest || e.Detail == "":
				t.Fatalf("got %+v; want %d %s", e, tc.status, CodeInvalidRequest)
			}
		})
	}
}

// TestWriteError: the login API's error body.
func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, RateLimited("wait"))
	var out map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusTooManyRequests || len(out) != 2 || out["error"] != CodeRateLimited || out["error_description"] != "wait" ||
		w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %v", w.Code, w.Header(), out)
	}
}

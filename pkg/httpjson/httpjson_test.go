package httpjson

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type input struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		body   string
		rules  Rules
		status int // 0: accepted
		code   string
	}{
		{"ok", "application/json", `{"name":"a","n":1}`, Rules{}, 0, ""},
		{"ok with charset", "application/json; charset=utf-8", `{"name":"a"}`, Rules{}, 0, ""},
		{"no type allowed", "", `{"name":"a"}`, Rules{}, 0, ""},
		{"no type refused", "", `{"name":"a"}`, Rules{TypeRequired: true}, 415, CodeUnsupportedMediaType},
		{"other type", "text/plain", `{"name":"a"}`, Rules{}, 415, CodeUnsupportedMediaType},
		{"bad type", "a/b/c;;", `{}`, Rules{}, 415, CodeUnsupportedMediaType},
		{"too large", "application/json", `{"name":"` + strings.Repeat("a", 100) + `"}`, Rules{MaxBytes: 50}, 413, CodeTooLarge},
		{"empty refused", "application/json", ``, Rules{}, 400, CodeBadJSON},
		{"blank refused", "application/json", "  \n", Rules{}, 400, CodeBadJSON},
		{"empty allowed", "application/json", ``, Rules{EmptyOK: true}, 0, ""},
		{"unknown field", "application/json", `{"name":"a","admin":"s3cret"}`, Rules{}, 400, CodeBadJSON},
		{"wrong type", "application/json", `{"n":"x"}`, Rules{}, 400, CodeBadJSON},
		{"syntax", "application/json", `{"name":`, Rules{}, 400, CodeBadJSON},
		{"trailing value", "application/json", `{"name":"a"}{"name":"b"}`, Rules{}, 400, CodeBadJSON},
		{"trailing garbage", "application/json", `{"name":"a"} x`, Rules{}, 400, CodeBadJSON},
		{"trailing space ok", "application/json", "{\"name\":\"a\"}\n ", Rules{}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			var v input
			err := Decode(httptest.NewRecorder(), r, tc.rules, &v)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode = %v, want *Error", err)
			}
			if e.Status != tc.status || e.Code != tc.code {
				t.Errorf("Decode = %d %s, want %d %s", e.Status, e.Code, tc.status, tc.code)
			}
			if strings.Contains(e.Detail, "s3cret") {
				t.Errorf("detail echoes input: %q", e.Detail)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	tests := []struct {
		header string
		tok    string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{"Bearerabc", "", false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		tok, ok := Bearer(r)
		if tok != tc.tok || ok != tc.ok {
			t.Errorf("Bearer(%q) = %q, %v; want %q, %v", tc.header, tok, ok, tc.tok, tc.ok)
		}
	}
}

func TestWriteProblem(t *testing.T) {
	w := httptest.NewRecorder()
	WriteProblem(w, NewProblem(http.StatusConflict, "already_exists", "the client exists"))
	if w.Code != http.StatusConflict {
		t.Fatalf("status %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"title": "Conflict", "status": float64(409), "detail": "the client exists",
		"error": "already_exists", "message": "the client exists"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	if WriteError(w, errors.New("other")) {
		t.Fatal("WriteError answered a foreign error")
	}
	if w.Body.Len() != 0 {
		t.Fatal("WriteError wrote for a foreign error")
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{"))
	err := Decode(w, r, Rules{}, &input{})
	if !WriteError(w, err) || w.Code != http.StatusBadRequest {
		t.Fatalf("WriteError: %d", w.Code)
	}
}

func TestWriteUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, http.StatusOK, map[string]any{"f": func() {}})
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"internal"`) {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","n":1}`, `{}`, `{"name":`, `[]`, `null`, `{"n":1e400}`, `{"name":"a"}{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var v input
		err := Decode(httptest.NewRecorder(), r, Rules{MaxBytes: 4096}, &v)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Decode returned %T", err)
		}
		if e != nil && e.Status/100 != 4 {
			t.Fatalf("status %d", e.Status)
		}
	})
}

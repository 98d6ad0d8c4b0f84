package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDo: JSON goes out with the token, answers come back decoded, and
// error answers become *Error whether or not they are JSON.
func TestDo(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"serial":"0a"}`))
		case "/problem":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"title":"Conflict","status":409,"error":"exists","message":"already there"}`))
		case "/oauth":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"unauthorized","error_description":"no token"}`))
		default:
			http.Error(w, "gateway trouble", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	c := New(Options{Base: srv.URL + "/", Token: "tok"})
	c.http = srv.Client()
	ctx := context.Background()
	var rec Certificate
	if err := c.Do(ctx, http.MethodPost, "/ok", map[string]string{"a": "b"}, &rec); err != nil || rec.Serial != "0a" {
		t.Fatalf("ok: %+v %v", rec, err)
	}
	tests := []struct {
		path, code, msg string
		status          int
	}{
		{"/problem", "exists", "already there", http.StatusConflict},
		{"/oauth", "unauthorized", "no token", http.StatusUnauthorized},
		{"/proxy", "http_error", "gateway trouble", http.StatusBadGateway},
	}
	for _, tc := range tests {
		err := c.Do(ctx, http.MethodGet, tc.path, nil, nil)
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Status != tc.status || (e.Message != tc.msg && e.Desc != tc.msg) {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
	if _, err := c.Get(ctx, "/proxy"); err == nil {
		t.Error("Get of a 502 succeeded")
	}
}

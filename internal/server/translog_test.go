package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/pkg/store"
)

type fakeTokens map[string]*idp.AccessToken

func (f fakeTokens) VerifyAccessToken(_ *http.Request, tok string) (*idp.AccessToken, error) {
	if at, ok := f[tok]; ok {
		return at, nil
	}
	return nil, errors.New("fake: unknown token")
}

type fakeEntries map[string][]store.LogEntry

func (f fakeEntries) LogEntriesOf(_ context.Context, pinfl string) ([]store.LogEntry, error) {
	if pinfl == "49999999999999" {
		return nil, errors.New("fake: store down")
	}
	return f[pinfl], nil
}

// TestPersonLog: /api/v1/log/mine answers a person's own entries for an
// access token that names a PINFL, and 401 for anything else.
func TestPersonLog(t *testing.T) {
	h := personLog{
		tokens:  fakeTokens{"person": {PINFL: "31204900012345"}, "service": {ClientID: "svc"}, "down": {PINFL: "49999999999999"}},
		entries: fakeEntries{"31204900012345": {{Index: 7, Kind: "decision", Ref: "d-1", CreatedAt: time.Unix(0, 0)}}},
	}
	tests := []struct {
		name, auth string
		want       int
	}{
		{"person", "Bearer person", http.StatusOK},
		{"service token", "Bearer service", http.StatusUnauthorized},
		{"unknown token", "Bearer forged", http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
		{"store down", "Bearer down", http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/log/mine", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tc.want != http.StatusOK {
				return
			}
			var out struct {
				PINFL   string           `json:"pinfl"`
				Entries []map[string]any `json:"entries"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.PINFL != "31204900012345" || len(out.Entries) != 1 || out.Entries[0]["ref"] != "d-1" {
				t.Fatalf("answer %s (%v)", w.Body, err)
			}
		})
	}
}

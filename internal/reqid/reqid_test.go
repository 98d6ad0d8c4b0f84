package reqid

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"abc":                              true,
		"0f3c9a7e2b1d4c5a8e9f0a1b2c3d4e5f": true,
		"a.b_c-D":                          true,
		strings.Repeat("x", 64):            true,
		"":                                 false,
		strings.Repeat("x", 65):            false,
		"has space":                        false,
		"new\nline":                        false,
		`quote"`:                           false,
		"é":                                false,
		"semi;colon":                       false,
	} {
		if got := Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
	if id := New(); !Valid(id) || len(id) != 32 || id == New() {
		t.Errorf("New() = %q", id)
	}
}

// TestMiddleware: a well-formed incoming id round-trips, a malformed or
// missing one is replaced, and a record logged inside the handler with the
// request's context carries the id.
func TestMiddleware(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside", "k", "v")
		log.Info("without context")
		_, _ = w.Write([]byte(FromContext(r.Context())))
	}))
	for _, c := range []struct {
		name, in string
		keep     bool
	}{
		{"well formed", "req-42.abc_DEF", true},
		{"nginx", "4b0a1f2e3d4c5b6a79881726354a5b6c", true},
		{"missing", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"injection", "x\" level=ERROR msg=forged", false},
		{"spaces", "a b", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			buf.Reset()
			req := httptest.NewRequest("GET", "/x", nil)
			if c.in != "" {
				req.Header.Set(Header, c.in)
			}
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, req)
			got := rr.Header().Get(Header)
			if c.keep && got != c.in {
				t.Fatalf("response id %q, want %q", got, c.in)
			}
			if !c.keep && (got == c.in || !Valid(got)) {
				t.Fatalf("malformed id %q answered with %q", c.in, got)
			}
			if rr.Body.String() != got {
				t.Fatalf("context id %q, header %q", rr.Body.String(), got)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("log: %q", buf.String())
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatal(err)
			}
			if rec["request_id"] != got || rec["k"] != "v" {
				t.Fatalf("record inside the handler: %v", rec)
			}
			if strings.Contains(lines[1], "request_id") {
				t.Fatalf("record without context got an id: %s", lines[1])
			}
		})
	}
}

// TestLogHandlerWith: the id survives With and WithGroup.
func TestLogHandlerWith(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "ca").WithGroup("g")
	log.WarnContext(NewContext(t.Context(), "abc"), "m", "a", 1)
	if s := buf.String(); !strings.Contains(s, "component=ca") || !strings.Contains(s, "g.request_id=abc") {
		t.Fatalf("log: %s", s)
	}
}

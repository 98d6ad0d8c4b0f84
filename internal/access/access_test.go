package access

import (
	"bytes"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yagona/yagona/internal/reqid"
)

func TestRecorder(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqid.LogHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	reg := prometheus.NewRegistry()
	now := time.Unix(1000, 0)
	clock := func() time.Time { now = now.Add(5 * time.Millisecond); return now }
	rec, err := New(Config{Logger: log, Registerer: reg, Now: clock, Route: func(r *http.Request) string {
		if strings.HasPrefix(r.URL.Path, "/ocsp/") {
			return "/ocsp"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	ocsp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := reqid.Middleware(rec.Wrap("https", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ocsp/") {
			ocsp.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})))
	for _, c := range []struct{ method, target string }{
		{"GET", "/items/1?code=secret-code"}, {"GET", "/items/2"}, {"POST", "/fail"},
		{"GET", "/ocsp/MFYwVKADAgEAME0wSzAJBgUrDgMCGgUABBQ"}, {"GET", "/nothing/here/1"}, {"GET", "/nothing/here/2"},
	} {
		req := httptest.NewRequest(c.method, c.target, nil)
		req.Header.Set(reqid.Header, "rid-"+c.method)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	got := series(t, reg)
	want := map[string]float64{
		`yagona_http_requests_total{code="200",listener="https",route="/ocsp"}`:           1,
		`yagona_http_requests_total{code="200",listener="https",route="GET /items/{id}"}`: 2,
		`yagona_http_requests_total{code="404",listener="https",route="unmatched"}`:       2,
		`yagona_http_requests_total{code="503",listener="https",route="POST /fail"}`:      1,
		`yagona_http_request_duration_seconds{listener="https",route="/ocsp"}`:            1,
		`yagona_http_request_duration_seconds{listener="https",route="GET /items/{id}"}`:  2,
		`yagona_http_request_duration_seconds{listener="https",route="unmatched"}`:        2,
		`yagona_http_request_duration_seconds{listener="https",route="POST /fail"}`:       1,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("series:\n%v\nwant\n%v", got, want)
	}
	logs := buf.String()
	if strings.Contains(logs, "secret-code") || strings.Contains(logs, "?") {
		t.Fatalf("query string logged:\n%s", logs)
	}
	for _, s := range []string{`msg="http request"`, "path=/items/1 ", "status=200", "bytes=5", "duration=5ms",
		"request_id=rid-GET", "status=503", "request_id=rid-POST", "remote=192.0.2.1:1234"} {
		if !strings.Contains(logs, s) {
			t.Errorf("access log lacks %q:\n%s", s, logs)
		}
	}
}

// series flattens gathered metrics to "name{labels}" → value (a
// histogram's sample count).
func series(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := m.GetCounter().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// TestRecorderQuiet: at info level no access line is written.
func TestRecorderQuiet(t *testing.T) {
	var buf bytes.Buffer
	rec, err := New(Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec.Wrap("http", http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if buf.Len() != 0 {
		t.Fatalf("logged at info: %s", buf.String())
	}
}

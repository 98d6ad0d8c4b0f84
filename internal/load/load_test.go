package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The scenarios themselves run against in-process servers in
// cmd/yagona/load_test.go; these tests cover the measuring and the wire.

func TestTimedCountsPerTarget(t *testing.T) {
	o := Options{N: 40, Concurrency: 4, Duration: 10 * time.Second}
	p := Plan{Targets: []string{"a", "b"}, Do: func(w, i int) (int, error) {
		time.Sleep(2 * time.Millisecond) // so that every worker gets requests
		switch {
		case w%2 == 0:
			return 200, nil
		case i%10 == 1:
			return 0, errors.New("connection refused") // the worker pauses 50 ms
		default:
			return 503, fmt.Errorf("status 503 (%d)", i%7) // 7 distinct messages
		}
	}}
	rep := Timed(context.Background(), o, p)
	if rep.Requests != 40 || rep.OK+rep.Errors != 40 || rep.Status["200"] != rep.OK || rep.Status["503"]+rep.Status["none"] != rep.Errors {
		t.Fatalf("totals: %+v", rep.Stats)
	}
	a, b := rep.Targets[0], rep.Targets[1]
	if a.Target != "a" || a.Errors != 0 || a.OK != rep.OK || b.OK != 0 || b.Errors != rep.Errors {
		t.Fatalf("per target: %+v / %+v", a, b)
	}
	if len(b.ErrorMessages) < 2 || len(b.ErrorMessages) > maxMessages || b.FirstError != b.ErrorMessages[0].Message {
		t.Fatalf("error messages: %+v", b.ErrorMessages)
	}
	sum := 0
	for _, s := range rep.Timeline {
		sum += s.OK + s.Errors
	}
	if sum != 40 || rep.P50ms > rep.P99ms || rep.P99ms > rep.P999ms || rep.P999ms > rep.MaxMs {
		t.Fatalf("timeline sum %d, percentiles %v %v %v %v", sum, rep.P50ms, rep.P99ms, rep.P999ms, rep.MaxMs)
	}
}

func TestErrorMessagesCapped(t *testing.T) {
	var msgs []ErrorCount
	for i := range 20 {
		msgs = addMessage(msgs, fmt.Sprint("e", i%7), 1)
	}
	if len(msgs) != maxMessages || msgs[0] != (ErrorCount{"e0", 3}) || msgs[4] != (ErrorCount{"e4", 3}) {
		t.Fatalf("%+v", msgs)
	}
}

func TestTimedBounds(t *testing.T) {
	var calls atomic.Int64
	slow := Plan{Targets: []string{"a"}, Do: func(w, i int) (int, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return 200, nil
	}}
	// The time limit ends a run long before its count.
	rep := Timed(context.Background(), Options{N: 1 << 30, Concurrency: 2, Duration: 100 * time.Millisecond}, slow)
	if rep.Seconds > 1 || calls.Load() > 20 {
		t.Fatalf("%d calls in %.2fs", calls.Load(), rep.Seconds)
	}
	// The rate cap spaces the requests: the 11th starts 10/50 s in.
	calls.Store(0)
	fast := Plan{Targets: []string{"a"}, Do: func(w, i int) (int, error) { calls.Add(1); return 200, nil }}
	rep = Timed(context.Background(), Options{N: 11, Concurrency: 8, Duration: 5 * time.Second, Rate: 50}, fast)
	if rep.OK != 11 || rep.Seconds < 0.19 || rep.Seconds > 2 {
		t.Fatalf("11 requests at 50/s: %d ok in %.3fs", rep.OK, rep.Seconds)
	}
	// The rate cap gives way to the time limit.
	rep = Timed(context.Background(), Options{N: 1000, Concurrency: 2, Duration: 100 * time.Millisecond, Rate: 10}, fast)
	if rep.OK > 2 || rep.Seconds > 1 {
		t.Fatalf("at 10/s for 0.1 s: %d ok in %.3fs", rep.OK, rep.Seconds)
	}
}

// TestReportJSON: the field names package load documents for scripts.
func TestReportJSON(t *testing.T) {
	rep := Timed(context.Background(), Options{N: 3, Concurrency: 1, Duration: time.Second},
		Plan{Targets: []string{"x"}, Do: func(w, i int) (int, error) { return 503, errors.New("busy") }})
	rep.Scenario = "ocsp"
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "requests", "ok", "errors", "seconds", "per_second", "p50_ms", "p99_ms", "p999_ms",
		"max_ms", "status", "error_messages", "first_error", "timeline", "targets", "concurrency", "cpus",
		"ecdsa_p256_sign_per_second_per_core", "ecdsa_p256_verify_per_second_per_core", "x_sign_rate", "x_verify_rate"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	if st := m["status"].(map[string]any); st["503"] != 3.0 {
		t.Errorf("status = %v", st)
	}
	tg := m["targets"].([]any)[0].(map[string]any)
	if tg["target"] != "x" || tg["errors"] != 3.0 {
		t.Errorf("target = %v", tg)
	}
}

func TestTargets(t *testing.T) {
	got, err := targets(" https://127.0.0.1:8443/, https://127.0.0.1:9443 ,", "https")
	if err != nil || len(got) != 2 || got[0] != "https://127.0.0.1:8443" || got[1] != "https://127.0.0.1:9443" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"", ",", "http://127.0.0.1:8443", "127.0.0.1:8443", "https://"} {
		if _, err := targets(bad, "https"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRawPosterStatus: the raw client counts each replica's answers by
// status and dials again after a failed request.
func TestRawPosterStatus(t *testing.T) {
	body := strings.Repeat("x", 200)
	// Both answer slowly enough that each worker gets requests.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte(body))
	}))
	defer ok.Close()
	var dials atomic.Int64
	busy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		http.Error(w, body, http.StatusServiceUnavailable)
	}))
	busy.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	busy.Start()
	defer busy.Close()
	c := &Client{o: Options{Timeout: 5 * time.Second}}
	p, err := c.rawPoster([]string{ok.URL, busy.URL}, "/ocsp", "application/ocsp-request", [][]byte{[]byte("q")}, 200)
	if err != nil {
		t.Fatal(err)
	}
	rep := Timed(context.Background(), Options{N: 20, Concurrency: 2, Duration: 10 * time.Second}, p)
	if rep.Targets[0].Status["200"] != rep.Targets[0].OK || rep.Targets[0].OK == 0 ||
		rep.Targets[1].Status["503"] != rep.Targets[1].Errors || rep.Targets[1].Errors == 0 {
		t.Fatalf("targets: %+v", rep.Targets)
	}
	if dials.Load() != int64(rep.Targets[1].Errors) {
		t.Fatalf("%d dials for %d failed requests", dials.Load(), rep.Targets[1].Errors)
	}
}

// TestBrowserCookiePerHost: a cookie set by one port goes to another port
// of the same host, as in a browser, and not to another host.
func TestBrowserCookiePerHost(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Cookie"))
		mu.Unlock()
		if r.URL.Path == "/set" {
			w.Header().Add("Set-Cookie", "__Host-yagona_browser=abc; Path=/; Secure; HttpOnly")
			w.Header().Add("Set-Cookie", "__Host-yagona_session=s; Path=/; Secure; HttpOnly")
		}
		_, _ = w.Write([]byte("ok"))
	})
	a, b := httptest.NewServer(h), httptest.NewServer(h)
	defer a.Close()
	defer b.Close()
	other := strings.Replace(b.URL, "127.0.0.1", "localhost", 1)
	c := &Client{o: Options{Timeout: 5 * time.Second}}
	br := c.newBrowser()
	defer br.close()
	for _, step := range []struct{ target, path string }{{a.URL, "/set"}, {b.URL, "/"}, {other, "/"}} {
		res, err := br.do(step.target, "GET", step.path, "", "", nil)
		if err != nil || res.status != 200 || string(res.body) != "ok" {
			t.Fatalf("%s%s: %d %q %v", step.target, step.path, res.status, res.body, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[1] != "__Host-yagona_browser=abc" || seen[2] != "" {
		t.Fatalf("cookies sent: %q", seen)
	}
}

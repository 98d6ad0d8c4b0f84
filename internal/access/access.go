// Package access records what each HTTP request did: one access-log line at
// debug level (method, path without the query, status, bytes, duration,
// remote address; the request id through the context, see internal/reqid) and
// the Prometheus metrics yagona_http_requests_total{listener,route,code}
// and yagona_http_request_duration_seconds{listener,route}.
//
// The route label is the ServeMux pattern that served the request
// (http.Request.Pattern), or what Config.Route names for requests served
// outside a mux, never the raw path: a label per distinct path would let
// any client grow the metrics without bound.
package access

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the route label of a request no pattern matched (and
// Config.Route did not name).
const Unmatched = "unmatched"

// Config configures a Recorder.
type Config struct {
	Logger     *slog.Logger          // nil discards
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
	// Route names the route of a request that no ServeMux pattern served
	// (Request.Pattern is empty after serving), from a small fixed set;
	// nil or "" gives Unmatched.
	Route func(r *http.Request) string
	// Now is the clock for durations; nil means time.Now.
	Now func() time.Time
}

// Recorder wraps handlers to log and count their requests. One Recorder
// serves every listener of a process, which Wrap names.
type Recorder struct {
	cfg      Config
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New registers the metrics with cfg.Registerer and returns a Recorder.
func New(cfg Config) (*Recorder, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rec := &Recorder{cfg: cfg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_http_requests_total",
			Help: "HTTP requests answered, by listener, route (the ServeMux pattern) and status code."},
			[]string{"listener", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "yagona_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by listener and route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}, // 100 µs to 13 s
			[]string{"listener", "route"}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{rec.requests, rec.duration} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return rec, nil
}

// Wrap returns h recording its requests under the listener label.
func (rec *Recorder) Wrap(listener string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := rec.cfg.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		d := rec.cfg.Now().Sub(start)
		route := r.Pattern
		if route == "" && rec.cfg.Route != nil {
			route = rec.cfg.Route(r)
		}
		if route == "" {
			route = Unmatched
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		rec.requests.WithLabelValues(listener, route, strconv.Itoa(status)).Inc()
		rec.duration.WithLabelValues(listener, route).Observe(d.Seconds())
		rec.log(r.Context(), r, listener, status, sw.bytes, d)
	})
}

// log writes the access line. The query string is left out: it may hold
// authorization codes, enrollment codes or tokens.
func (rec *Recorder) log(ctx context.Context, r *http.Request, listener string, status int, bytes int64, d time.Duration) {
	if !rec.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	rec.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "http request",
		slog.String("listener", listener), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Int64("bytes", bytes), slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr))
}

// statusWriter remembers the status and counts the body bytes.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx informational answers are not the status
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer
// (flushing, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through for handlers that assert http.Flusher directly.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

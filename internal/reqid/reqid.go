// Package reqid gives every HTTP request an identifier that follows it
// through the logs: Middleware takes a well-formed X-Request-ID from the
// request (a proxy such as nginx sets one from $request_id) or makes one,
// echoes it on the response and puts it in the request's context, and
// LogHandler adds it as request_id to every slog record logged with that
// context. The same identifier in the proxy's access log, Yagona's log and
// the client's error report ties them together.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// Header is the HTTP header carrying the identifier, both ways.
const Header = "X-Request-ID"

// MaxLen is the longest identifier accepted from a request.
const MaxLen = 64

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identifier ctx carries, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Valid reports whether id is 1 to MaxLen characters of [A-Za-z0-9._-]:
// safe in a header, a log line and a URL, whatever the log format.
func Valid(id string) bool {
	if len(id) == 0 || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// New returns a fresh identifier: 128 random bits in 32 hex digits, the
// form of nginx's $request_id.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Middleware gives each request an identifier: the request's X-Request-ID
// when Valid, else a new one. It sets the identifier on the response
// before next runs and on the request's context for next and the logs.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !Valid(id) {
			id = New()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// LogHandler wraps h so that every record logged with a context carrying
// an identifier gets the attribute request_id. Records logged without a
// context (Info rather than InfoContext) or outside a request pass through
// unchanged. Under a group (Logger.WithGroup) the attribute lands in the
// group, as any attribute added at that point would.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ h slog.Handler }

func (l logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := FromContext(ctx); id != "" {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return l.h.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.h.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.h.WithGroup(name)} }

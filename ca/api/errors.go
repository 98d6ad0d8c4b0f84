package api

import (
	"log/slog"
	"net/http"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/pkg/httpjson"
)

var kindStatus = map[ca.Kind]int{
	ca.KindInvalid:      http.StatusBadRequest,
	ca.KindUnauthorized: http.StatusUnauthorized,
	ca.KindForbidden:    http.StatusForbidden,
	ca.KindNotFound:     http.StatusNotFound,
	ca.KindConflict:     http.StatusConflict,
	ca.KindRateLimited:  http.StatusTooManyRequests,
	ca.KindUnavailable:  http.StatusServiceUnavailable,
	ca.KindInternal:     http.StatusInternalServerError,
}

// writeError answers err as an RFC 9457 problem document: a request body
// that httpjson.Decode refused as it says, a domain error by its kind,
// mapped to a status code once, here at the edge. Internal details are
// logged, never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if httpjson.WriteError(w, err) {
		return
	}
	e := ca.AsError(err)
	status := kindStatus[e.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := e.Message
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
		if e.Kind == ca.KindInternal {
			msg = "internal error"
		}
	}
	if e.Kind == ca.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
	}
	httpjson.WriteProblem(w, httpjson.NewProblem(status, e.Code, msg))
}

package server

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/url"
	"time"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

// logOrigin names the log: the public HTTPS host and /log.
func logOrigin(cfg *config.Config) string {
	u, err := url.Parse(cfg.PublicURL.HTTPS)
	if err != nil || u.Host == "" {
		return "yagona/log"
	}
	return u.Host + "/log"
}

// personLog answers GET /api/v1/log/mine: the transparency-log entries of
// the person an access token (scope pinfl) names, every certificate ever
// issued under their PINFL.
type personLog struct {
	tokens interface {
		VerifyAccessToken(r *http.Request, token string) (*idp.AccessToken, error)
	}
	entries interface {
		LogEntriesOf(ctx context.Context, pinfl string) ([]store.LogEntry, error)
	}
}

func (h personLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pinfl, ok := h.person(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona", scope="openid pinfl"`)
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusUnauthorized, "unauthorized", "an access token with scope pinfl is required"))
		return
	}
	es, err := h.entries.LogEntriesOf(r.Context(), pinfl)
	if err != nil {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusServiceUnavailable, "unavailable", "try again"))
		return
	}
	out := make([]map[string]any, 0, len(es))
	for _, e := range es {
		item := map[string]any{"index": e.Index, "kind": e.Kind, "ref": e.Ref, "logged_at": e.CreatedAt.Format(time.RFC3339)}
		if e.Kind == "certificate" {
			if c, err := x509.ParseCertificate(e.Data); err == nil {
				item["subject"], item["not_before"], item["not_after"] = c.Subject.String(), c.NotBefore, c.NotAfter
			}
		}
		out = append(out, item)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"pinfl": pinfl, "entries": out})
}

// person is the PINFL of the request's access token, if it names one.
func (h personLog) person(r *http.Request) (string, bool) {
	tok, ok := httpjson.Bearer(r)
	if !ok {
		return "", false
	}
	at, err := h.tokens.VerifyAccessToken(r, tok)
	if err != nil || at.PINFL == "" {
		return "", false
	}
	return at.PINFL, true
}

package server

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/yagona/yagona/internal/config"
)

// logOrigin names the log: the public HTTPS host and /log.
func logOrigin(cfg *config.Config) string {
	u, err := url.Parse(cfg.PublicURL.HTTPS)
	if err != nil || u.Host == "" {
		return "yagona/log"
	}
	return u.Host + "/log"
}

// myLogEntries lists the log entries of the person an access token (scope
// pinfl) names: every certificate ever issued under their PINFL.
func (a *Server) myLogEntries(w http.ResponseWriter, r *http.Request) {
	tok := bearerToken(r)
	at, err := a.idp.VerifyAccessToken(r, tok)
	if tok == "" || err != nil || at.PINFL == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona", scope="openid pinfl"`)
		writeJSONError(w, http.StatusUnauthorized, "unauthorized", "an access token with scope pinfl is required")
		return
	}
	es, err := a.store.LogEntriesOf(r.Context(), at.PINFL)
	if err != nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", "try again")
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
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"pinfl": at.PINFL, "entries": out})
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

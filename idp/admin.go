package idp

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

// The administrator API for clients, on when Config.Operators is set.
// Every call needs the clients:admin scope or an operator token
// (authorizeAdmin). Errors are
// RFC 9457 problem documents whose "error" member is the code:
// not_found, unauthorized, invalid_request (a body that is not the
// expected JSON), invalid_client_metadata, temporarily_unavailable.

const maxAdminBody = 64 << 10

func adminProblem(w http.ResponseWriter, status int, code, detail string) {
	httpjson.WriteProblem(w, httpjson.NewProblem(status, code, detail))
}

func adminUnavailable(w http.ResponseWriter) {
	adminProblem(w, http.StatusServiceUnavailable, errTemporarilyUnavail, "try again")
}

func (p *Provider) admin(w http.ResponseWriter, r *http.Request) (string, bool) {
	if p.cfg.Operators == nil {
		adminProblem(w, http.StatusNotFound, "not_found", "the client administration API is not enabled")
		return "", false
	}
	actor, err := p.authorizeAdmin(r, "clients:admin")
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona", scope="clients:admin"`)
		adminProblem(w, http.StatusUnauthorized, "unauthorized", "an administrator token with scope clients:admin is required")
		return "", false
	}
	return actor, true
}

func (p *Provider) handleAdminCreateClient(w http.ResponseWriter, r *http.Request) {
	actor, ok := p.admin(w, r)
	if !ok {
		return
	}
	var in ClientInput
	if err := httpjson.Decode(w, r, httpjson.Rules{TypeRequired: true, MaxBytes: maxAdminBody}, &in); err != nil {
		status, detail := http.StatusBadRequest, "cannot read the body"
		var he *httpjson.Error
		if errors.As(err, &he) {
			status, detail = he.Status, he.Detail
		}
		adminProblem(w, status, errInvalidRequest, detail)
		return
	}
	rc, err := p.RegisterClient(r.Context(), in, actor)
	if err != nil {
		if errors.Is(err, ErrClient) {
			adminProblem(w, http.StatusBadRequest, "invalid_client_metadata", err.Error())
			return
		}
		p.log.ErrorContext(r.Context(), "client registration failed", "err", err)
		adminUnavailable(w)
		return
	}
	httpjson.Write(w, http.StatusCreated, rc)
}

func (p *Provider) handleAdminListClients(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.admin(w, r); !ok {
		return
	}
	recs, err := p.st.ListClients(r.Context())
	if err != nil {
		adminUnavailable(w)
		return
	}
	out := []clientView{}
	for _, rec := range recs {
		c, err := decodeClient(rec)
		if err != nil {
			continue
		}
		out = append(out, view(c))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"clients": out})
}

// clientView is a client as the admin API shows it (no secret hash).
type clientView struct {
	Client
	SecretHash json.RawMessage `json:"secret_hash,omitempty"`
	Disabled   bool            `json:"disabled"`
}

func view(c *Client) clientView { return clientView{Client: *c, Disabled: c.Disabled} }

func (p *Provider) handleAdminGetClient(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.admin(w, r); !ok {
		return
	}
	rec, ok := p.adminClientRecord(w, r)
	if !ok {
		return
	}
	c, err := decodeClient(rec)
	if err != nil {
		adminUnavailable(w)
		return
	}
	httpjson.Write(w, http.StatusOK, view(c))
}

// handleAdminDisableClient disables a client (records are never deleted):
// it can no longer authenticate or start logins.
func (p *Provider) handleAdminDisableClient(w http.ResponseWriter, r *http.Request) {
	actor, ok := p.admin(w, r)
	if !ok {
		return
	}
	rec, ok := p.adminClientRecord(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	rec.Disabled = true
	rec.UpdatedAt = p.now()
	if err := p.st.UpdateClient(ctx, rec); err != nil {
		adminUnavailable(w)
		return
	}
	p.clients.Delete(rec.ID)
	p.audit(ctx, actor, "client.disable", rec.ID, nil)
	w.WriteHeader(http.StatusNoContent)
}

// adminClientRecord reads the record of the client the path names; on
// failure it has answered.
func (p *Provider) adminClientRecord(w http.ResponseWriter, r *http.Request) (store.Client, bool) {
	rec, err := p.st.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			adminProblem(w, http.StatusNotFound, "not_found", "no such client")
		} else {
			adminUnavailable(w)
		}
		return store.Client{}, false
	}
	return rec, true
}

package idp

import (
	"encoding/json"
	"errors"
	"net/http"
)

// The administrator API for clients, on when Config.Operators is set.
// Every call needs the clients:admin scope or an operator token
// (authorizeAdmin).
func (p *Provider) admin(w http.ResponseWriter, r *http.Request) (string, bool) {
	if p.cfg.Operators == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return "", false
	}
	actor, err := p.authorizeAdmin(r, "clients:admin")
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona", scope="clients:admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "an administrator token with scope clients:admin is required"})
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
	if ae := decodeJSON(r, &in, 64<<10); ae != nil {
		writeAPIError(w, ae)
		return
	}
	rc, err := p.RegisterClient(r.Context(), in, actor)
	if err != nil {
		if errors.Is(err, ErrClient) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata", "error_description": err.Error()})
			return
		}
		p.log.ErrorContext(r.Context(), "client registration failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
		return
	}
	writeJSON(w, http.StatusCreated, rc)
}

func (p *Provider) handleAdminListClients(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.admin(w, r); !ok {
		return
	}
	recs, err := p.st.ListClients(r.Context())
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
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
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
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
	rec, err := p.st.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
		return
	}
	c, err := decodeClient(rec)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
		return
	}
	writeJSON(w, http.StatusOK, view(c))
}

// handleAdminDisableClient disables a client (records are never deleted):
// it can no longer authenticate or start logins.
func (p *Provider) handleAdminDisableClient(w http.ResponseWriter, r *http.Request) {
	actor, ok := p.admin(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	rec, err := p.st.GetClient(ctx, r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
		return
	}
	rec.Disabled = true
	rec.UpdatedAt = p.now()
	if err := p.st.UpdateClient(ctx, rec); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": errTemporarilyUnavail})
		return
	}
	p.clients.Delete(rec.ID)
	p.audit(ctx, actor, "client.disable", rec.ID, nil)
	w.WriteHeader(http.StatusNoContent)
}

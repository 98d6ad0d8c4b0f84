package decision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/statement"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/web"
)

// Register adds the routes.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/decisions", s.handleCreate)
	mux.HandleFunc("GET /api/v1/decisions", s.handleAwaiting)
	mux.HandleFunc("GET /api/v1/decisions/{id}", s.handleGet)
	mux.HandleFunc("GET /api/v1/decisions/{id}/document", s.handleDocument)
	mux.HandleFunc("POST /api/v1/decisions/{id}/signatures", s.handleSign)
	mux.HandleFunc("POST /api/v1/decisions/{id}/reject", s.handleReject)
	mux.HandleFunc("POST /api/v1/decisions/{id}/withdraw", s.handleWithdraw)
	mux.HandleFunc("GET /api/v1/decisions/{id}/combined", s.handleCombined)
	mux.HandleFunc("GET /api/v1/decisions/{id}/evidence", s.handleEvidence)
	guard := web.NewGuard(nil)
	mux.Handle("GET /d/{id}", guard.Page(http.HandlerFunc(s.handlePage)))
	mux.Handle("POST /d/{id}", guard.Page(http.HandlerFunc(s.handlePage)))
}

func (s *Service) principal(w http.ResponseWriter, r *http.Request) (*Principal, bool) {
	p, err := s.authenticate(r)
	if err != nil || p == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
		s.fail(w, r, bad(http.StatusUnauthorized, "unauthorized", "an access token is required"))
		return nil, false
	}
	return p, true
}

// decodeBody reads the JSON body into v (httpjson.Decode: application/json
// only, at most limit bytes, no unknown fields). A refusal keeps the codes
// this API has always given: too_large, else invalid_request.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: limit, TypeRequired: true}, v)
	var de *httpjson.Error
	if errors.As(err, &de) {
		code := "invalid_request"
		if de.Code == httpjson.CodeTooLarge {
			code = de.Code
		}
		return bad(de.Status, code, de.Detail)
	}
	return err
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	if !slices.Contains(p.Scopes, "decisions") || p.ClientID == "" {
		s.fail(w, r, bad(http.StatusForbidden, "insufficient_scope", "registering decisions needs scope decisions"))
		return
	}
	var in registration
	if err := decodeBody(w, r, &in, MaxDocument*4/3+64<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	in.Policy.Order = strings.ToLower(strings.TrimSpace(in.Policy.Order))
	if in.Policy.Order == "" {
		in.Policy.Order = "parallel"
	}
	if in.Policy.Required == 0 {
		in.Policy.Required = len(in.Policy.Signers)
	}
	now := s.cfg.Now()
	deadline, err := time.Parse(time.RFC3339, in.Deadline)
	switch {
	case strings.TrimSpace(in.Title) == "" || len(in.Title) > 500:
		err = errors.New("title is required (at most 500 bytes)")
	case err != nil:
		err = errors.New("deadline must be RFC 3339")
	case !deadline.After(now):
		err = errors.New("the deadline has passed")
	default:
		err = errors.Join(in.Policy.validate(), checkWebhook(in.WebhookURL))
	}
	if err != nil {
		s.fail(w, r, bad(http.StatusBadRequest, "invalid_decision", err.Error()))
		return
	}
	var doc, sum []byte
	size := int64(0)
	switch {
	case in.Document != "" && in.DocumentSHA256 == "":
		doc, err = decodeB64(in.Document)
		if err != nil || len(doc) == 0 || len(doc) > MaxDocument {
			s.fail(w, r, bad(http.StatusBadRequest, "invalid_decision", "document must be base64, 1 byte to 32 MiB"))
			return
		}
		if statement.IsLoginStatement(doc) {
			s.fail(w, r, errLoginStatement)
			return
		}
		h := sha256.Sum256(doc)
		sum, size = h[:], int64(len(doc))
	case in.Document == "" && in.DocumentSHA256 != "":
		sum, err = hex.DecodeString(in.DocumentSHA256)
		if err != nil || len(sum) != sha256.Size || in.DocumentSize <= 0 {
			s.fail(w, r, bad(http.StatusBadRequest, "invalid_decision", "document_sha256 must be 64 hex digits, with document_size"))
			return
		}
		size = in.DocumentSize
	default:
		s.fail(w, r, bad(http.StatusBadRequest, "invalid_decision", "give the document, or its document_sha256 and document_size"))
		return
	}
	pol, _ := json.Marshal(in.Policy)
	d := store.Decision{ID: randomID(), ClientID: p.ClientID, Title: in.Title, DocSHA256: sum, DocSize: size, Document: doc,
		Policy: pol, State: store.DecisionPending, Deadline: deadline.UTC(), WebhookURL: in.WebhookURL, WebhookSecret: randomID() + randomID(), CreatedAt: now}
	if err := s.cfg.Store.CreateDecision(ctx, d); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.view(ctx, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.WebhookSecret = d.WebhookSecret
	httpjson.Write(w, http.StatusCreated, v)
}

func (s *Service) load(ctx context.Context, id string) (store.Decision, error) {
	if len(id) == 0 || len(id) > 64 {
		return store.Decision{}, store.ErrNotFound
	}
	d, err := s.cfg.Store.GetDecision(ctx, id)
	if err != nil {
		return d, err
	}
	s.expire(ctx, &d)
	return d, nil
}

// loadFor loads the decision of the path for a caller with an access
// token; it answers a failure itself.
func (s *Service) loadFor(w http.ResponseWriter, r *http.Request) (store.Decision, bool) {
	if _, ok := s.principal(w, r); !ok {
		return store.Decision{}, false
	}
	d, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return d, false
	}
	return d, true
}

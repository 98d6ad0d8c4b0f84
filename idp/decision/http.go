package decision

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/validation"
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

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.loadFor(w, r); ok {
		s.writeView(w, r, d)
	}
}

// writeView answers 200 with the decision as its parties see it.
func (s *Service) writeView(w http.ResponseWriter, r *http.Request, d store.Decision) {
	v, err := s.view(r.Context(), d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

func (s *Service) handleDocument(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadFor(w, r)
	if !ok {
		return
	}
	if d.Document == nil {
		s.fail(w, r, bad(http.StatusNotFound, "document_not_held", "the service registered only the document's hash; get the document from the service"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Document-SHA256", hex.EncodeToString(d.DocSHA256))
	_, _ = w.Write(d.Document)
}

// handleAwaiting lists the pending decisions that name the caller (by
// PINFL), and those that name a position anyone may hold.
func (s *Service) handleAwaiting(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	if p.PINFL == "" {
		s.fail(w, r, bad(http.StatusForbidden, "insufficient_scope", "a person's token (scope pinfl) is required"))
		return
	}
	list, err := s.cfg.Store.ListDecisions(ctx, store.DecisionPending, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []view{}
	for _, d := range list {
		var pol Policy
		_ = json.Unmarshal(d.Policy, &pol)
		sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var filled []int
		signed := false
		for _, sg := range sigs {
			filled = append(filled, sg.Slot)
			signed = signed || sg.PINFL == p.PINFL
		}
		if signed || !s.cfg.Now().Before(d.Deadline) {
			continue
		}
		for i, sg := range pol.Signers {
			next := pol.Order != "sequential" || i == len(filled)
			if !slices.Contains(filled, i) && next && (sg.PINFL == p.PINFL || sg.PINFL == "") {
				v, err := s.view(ctx, d)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				out = append(out, v)
				break
			}
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"decisions": out})
}

func (s *Service) handleSign(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	var in struct {
		Signature string `json:"signature"`
	}
	if err := decodeBody(w, r, &in, validation.MaxSignature*2); err != nil {
		s.fail(w, r, err)
		return
	}
	der, err := decodeB64(in.Signature)
	if err != nil || len(der) == 0 {
		s.fail(w, r, bad(http.StatusBadRequest, "invalid_signature", "signature must be base64 DER CMS"))
		return
	}
	v, err := s.sign(ctx, r.PathValue("id"), p, der)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, v)
}

// sign validates and records one official's signature; the last one the
// policy needs makes the decision final.
func (s *Service) sign(ctx context.Context, id string, p *Principal, der []byte) (view, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return view{}, err
	}
	if d.State != store.DecisionPending {
		return view{}, bad(http.StatusConflict, "not_pending", "the decision is "+d.State)
	}
	now := s.cfg.Now()
	in := validation.Input{Signature: der, Document: d.Document, Time: now}
	if d.Document == nil {
		// Registered by hash: signatures made with SHA-256 are checked
		// against it.
		in.Digests = map[crypto.Hash][]byte{crypto.SHA256: d.DocSHA256}
	}
	rep := s.cfg.Validator.Validate(ctx, in)
	if rep.Indication != validation.TotalPassed {
		return view{}, bad(http.StatusUnprocessableEntity, "signature_not_valid", rep.Indication+" "+rep.SubIndication)
	}
	if len(rep.Signers) != 1 || rep.Signers[0].Signer == nil {
		return view{}, bad(http.StatusUnprocessableEntity, "one_signer", "submit one signature at a time")
	}
	who := rep.Signers[0].Signer
	if p.PINFL == "" || who.PINFL != p.PINFL {
		return view{}, bad(http.StatusForbidden, "not_your_signature", "the signature is not the logged-in person's")
	}
	var pol Policy
	_ = json.Unmarshal(d.Policy, &pol)
	sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
	if err != nil {
		return view{}, err
	}
	var filled []int
	for _, sg := range sigs {
		if sg.PINFL == p.PINFL {
			return view{}, bad(http.StatusConflict, "already_signed", "this official has signed this decision")
		}
		filled = append(filled, sg.Slot)
	}
	slot, err := pol.slotFor(ident.Identity{PINFL: who.PINFL, TIN: who.TIN, Organization: who.Organization, Title: who.Title}, filled)
	if err != nil {
		return view{}, err
	}
	repJSON, _ := json.Marshal(rep)
	ds := store.DecisionSignature{DecisionID: d.ID, Seq: len(sigs), PINFL: p.PINFL, Slot: slot, Signature: der, Report: repJSON, CreatedAt: now}
	var combined, logData []byte
	ev := store.AuditEvent{Time: now, Actor: "official:" + p.PINFL, Action: "decision.sign", Subject: d.ID}
	if len(sigs)+1 >= pol.Required {
		all := make([][]byte, 0, len(sigs)+1)
		signers := []string{}
		for _, sg := range sigs {
			all = append(all, sg.Signature)
			signers = append(signers, sg.PINFL)
		}
		all = append(all, der)
		signers = append(signers, p.PINFL)
		if combined, err = cms.Combine(all...); err != nil {
			return view{}, bad(http.StatusUnprocessableEntity, "cannot_combine", err.Error())
		}
		logData, _ = json.Marshal(map[string]any{"id": d.ID, "title": d.Title, "document_sha256": hex.EncodeToString(d.DocSHA256),
			"signers": signers, "final_at": now.UTC().Format(time.RFC3339), "combined_sha256": sha256Hex(combined)})
		ev.Action = "decision.final"
	}
	var hook *store.Webhook
	if combined != nil {
		fd := d
		fd.State = store.DecisionFinal
		hook = s.hook(fd)
	}
	if err := s.cfg.Store.AddDecisionSignature(ctx, ds, combined, logData, ev, hook); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return view{}, bad(http.StatusConflict, "already_signed", "this official has signed this decision")
		}
		return view{}, err
	}
	d, err = s.cfg.Store.GetDecision(ctx, d.ID)
	if err != nil {
		return view{}, err
	}
	if d.State == store.DecisionFinal {
		go s.Sweep(context.WithoutCancel(ctx)) // deliver now rather than at the next round
	}
	return s.view(ctx, d)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Service) handleReject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(w, r, &in, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var pol Policy
	_ = json.Unmarshal(d.Policy, &pol)
	named := p.PINFL != "" && slices.ContainsFunc(pol.Signers, func(sg Signer) bool { return sg.PINFL == p.PINFL })
	if !named {
		s.fail(w, r, bad(http.StatusForbidden, "not_a_signer", "only an official the policy names by PINFL may reject"))
		return
	}
	s.setState(w, r, d, store.DecisionRejected, "rejected by "+p.PINFL+": "+strings.TrimSpace(in.Reason))
}

func (s *Service) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.ClientID != d.ClientID || !slices.Contains(p.Scopes, "decisions") {
		s.fail(w, r, bad(http.StatusForbidden, "not_owner", "only the service that registered the decision may withdraw it"))
		return
	}
	s.setState(w, r, d, store.DecisionWithdrawn, "withdrawn by the service")
}

func (s *Service) setState(w http.ResponseWriter, r *http.Request, d store.Decision, state, reason string) {
	nd := d
	nd.State, nd.Reason = state, reason
	if err := s.cfg.Store.SetDecisionState(r.Context(), d.ID, []string{store.DecisionPending}, state, reason, s.cfg.Now(), s.hook(nd)); err != nil {
		s.fail(w, r, err)
		return
	}
	d = nd
	go s.Sweep(context.WithoutCancel(r.Context()))
	s.writeView(w, r, d)
}

func (s *Service) handleCombined(w http.ResponseWriter, r *http.Request) {
	d, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.State != store.DecisionFinal {
		s.fail(w, r, bad(http.StatusConflict, "not_final", "the decision is "+d.State))
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-signature")
	w.Header().Set("Content-Disposition", `attachment; filename="decision-`+d.ID+`.p7s"`)
	_, _ = w.Write(d.Combined)
}

// handleEvidence returns the evidence bundle of a final decision: the
// document hash, every signature with its validation report (time-stamps
// and revocation data inside), the combined CMS, and the log entry.
func (s *Service) handleEvidence(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type sigEvidence struct {
		PINFL     string          `json:"pinfl"`
		Slot      int             `json:"slot"`
		Signature []byte          `json:"signature"`
		Report    json.RawMessage `json:"report"`
	}
	out := map[string]any{"id": d.ID, "title": d.Title, "state": d.State, "document_sha256": hex.EncodeToString(d.DocSHA256),
		"document_size": d.DocSize, "policy": json.RawMessage(d.Policy)}
	var ev []sigEvidence
	for _, sg := range sigs {
		ev = append(ev, sigEvidence{PINFL: sg.PINFL, Slot: sg.Slot, Signature: sg.Signature, Report: sg.Report})
	}
	out["signatures"] = ev
	if d.State == store.DecisionFinal {
		out["combined"] = d.Combined
		out["final_at"] = d.FinalAt
		if e, err := s.cfg.Store.FindLogEntry(ctx, "decision", d.ID); err == nil {
			out["log"] = map[string]any{"index": e.Index, "proof_url": "/log/proof/decision/" + d.ID}
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// Package decision is the workflow of decisions signed by officials: a
// service registers a document and a signing policy, the officials it
// names sign it (detached CMS over the document, validated on arrival),
// and when the policy is satisfied the decision is final: one combined CMS
// with every signature, an evidence bundle, an entry in the transparency
// log, a signed webhook to the service, and a public page /d/{id} where
// anyone can check a document against it. Rejection, expiry and
// withdrawal are states too; nothing is deleted. docs/decisions.md.
package decision

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/validation"
)

// Store is what the workflow keeps; pkg/store satisfies it.
type Store interface {
	CreateDecision(ctx context.Context, d store.Decision) error
	GetDecision(ctx context.Context, id string) (store.Decision, error)
	ListDecisions(ctx context.Context, state string, limit int) ([]store.Decision, error)
	DecisionSignatures(ctx context.Context, id string) ([]store.DecisionSignature, error)
	AddDecisionSignature(ctx context.Context, s store.DecisionSignature, combined, logData []byte, audit store.AuditEvent, hook *store.Webhook) error
	SetDecisionState(ctx context.Context, id string, from []string, state, reason string, now time.Time, hook *store.Webhook) error
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, maxAttempts, limit int) ([]store.Webhook, error)
	FinishWebhook(ctx context.Context, id int64, delivered bool, errText string, now, next time.Time) error
	FindLogEntry(ctx context.Context, kind, ref string) (store.LogEntry, error)
}

// Principal is who calls, from an access token: a service (client
// credentials, scope decisions) or a person (PINFL).
type Principal struct {
	ClientID string
	PINFL    string
	Scopes   []string
}

// Tokens verifies the callers' bearer access tokens; *idp.Provider
// satisfies it.
type Tokens interface {
	VerifyAccessToken(r *http.Request, token string) (*idp.AccessToken, error)
}

// Signer is one required signer of a policy: a person by PINFL, or
// whoever holds a position in an organization (by TIN).
type Signer struct {
	PINFL    string `json:"pinfl,omitempty"`
	TIN      string `json:"tin,omitempty"`
	Position string `json:"position,omitempty"`
}

// Policy says who must sign and how.
type Policy struct {
	Signers  []Signer `json:"signers"`
	Order    string   `json:"order"`    // "parallel" (default) or "sequential"
	Required int      `json:"required"` // N of the M signers; default all
}

// Config configures the workflow.
type Config struct {
	Store      Store
	Validator  *validation.Validator
	Tokens     Tokens
	PublicURL  string // https base of the public page, e.g. https://id.example.uz
	Now        func() time.Time
	Logger     *slog.Logger
	HTTPClient *http.Client // webhooks
}

// Service is the workflow with its HTTP surface.
type Service struct {
	cfg Config
	bg  sync.WaitGroup // deliveries started by state changes (deliverSoon)
}

// deliverSoon sweeps in the background, so that the webhook of a state
// change goes out now rather than at the next round of the job; Wait
// waits for it.
func (s *Service) deliverSoon(ctx context.Context) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.Sweep(context.WithoutCancel(ctx))
	}()
}

// Wait returns when the background deliveries started by state changes
// have ended. Call it before closing the store.
func (s *Service) Wait() { s.bg.Wait() }

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Service{cfg: cfg}
}

// MaxDocument caps a registered document.
const MaxDocument = 32 << 20

type apiErr struct {
	status int
	code   string
	desc   string
}

func (e *apiErr) Error() string { return e.code + ": " + e.desc }

// errLoginStatement refuses a document that is a login statement
// (pkg/statement): a decision's signatures are downloadable by anyone,
// and one over a login statement must never be a login proof.
var errLoginStatement = bad(http.StatusUnprocessableEntity, "login_statement",
	"this is a login statement, not a document: it cannot be registered or signed as a decision")

func bad(status int, code, desc string) *apiErr { return &apiErr{status, code, desc} }

// fail answers err as a problem document (RFC 9457), mapping the store's
// errors to statuses here, at the edge; internals are logged, not sent.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiErr
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = bad(http.StatusNotFound, "not_found", "no such decision")
	case errors.Is(err, store.ErrConflict):
		ae = bad(http.StatusConflict, "conflict", "the decision changed meanwhile, or is no longer pending")
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "decision request failed", "err", err)
		ae = bad(http.StatusServiceUnavailable, "unavailable", "try again later")
	}
	httpjson.WriteProblem(w, httpjson.NewProblem(ae.status, ae.code, ae.desc))
}

func (p Policy) validate() error {
	if len(p.Signers) == 0 || len(p.Signers) > 50 {
		return errors.New("1 to 50 signers are required")
	}
	for i, sg := range p.Signers {
		switch {
		case sg.PINFL != "" && (sg.TIN != "" || sg.Position != ""):
			return fmt.Errorf("signer %d: a PINFL or an organization and position, not both", i)
		case sg.PINFL != "" && !ident.ValidPINFL(sg.PINFL):
			return fmt.Errorf("signer %d: PINFL must be 14 digits", i)
		case sg.PINFL == "" && (!ident.ValidTIN(sg.TIN) || strings.TrimSpace(sg.Position) == ""):
			return fmt.Errorf("signer %d: needs a PINFL, or a TIN (9 digits) and a position", i)
		}
	}
	if p.Order != "parallel" && p.Order != "sequential" {
		return errors.New(`order must be "parallel" or "sequential"`)
	}
	if p.Required < 1 || p.Required > len(p.Signers) {
		return errors.New("required must be between 1 and the number of signers")
	}
	if p.Order == "sequential" && p.Required != len(p.Signers) {
		return errors.New("a sequential policy requires every signer")
	}
	return nil
}

// matches reports whether the identity in a certificate fills slot sg.
func (sg Signer) matches(id ident.Identity) bool {
	if sg.PINFL != "" {
		return id.PINFL == sg.PINFL
	}
	return id.TIN == sg.TIN && strings.EqualFold(strings.TrimSpace(id.Title), strings.TrimSpace(sg.Position))
}

// slotFor finds the slot an identity may fill now, given the slots filled.
func (p Policy) slotFor(id ident.Identity, filled []int) (int, error) {
	if p.Order == "sequential" {
		next := len(filled)
		if next < len(p.Signers) && p.Signers[next].matches(id) {
			return next, nil
		}
		for i, sg := range p.Signers {
			if sg.matches(id) && !slices.Contains(filled, i) {
				return -1, bad(http.StatusConflict, "out_of_order", fmt.Sprintf("this decision is signed in order; signer %d comes first", next+1))
			}
		}
		return -1, bad(http.StatusForbidden, "not_a_signer", "the policy does not name this signer")
	}
	for i, sg := range p.Signers {
		if sg.matches(id) && !slices.Contains(filled, i) {
			return i, nil
		}
	}
	return -1, bad(http.StatusForbidden, "not_a_signer", "the policy does not name this signer, or their place is signed")
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return strings.ToLower(strings.TrimRight(base32(b), "="))
}

func base32(b []byte) string {
	const alphabet = "abcdefghjkmnpqrstvwxyz0123456789"
	var out []byte
	var acc, bits uint
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, alphabet[(acc<<(5-bits))&31])
	}
	return string(out)
}

// registration is what a service posts.
type registration struct {
	Title          string `json:"title"`
	Document       string `json:"document"`        // base64; or, to register only the hash:
	DocumentSHA256 string `json:"document_sha256"` // hex
	DocumentSize   int64  `json:"document_size"`
	Policy         Policy `json:"policy"`
	Deadline       string `json:"deadline"` // RFC 3339
	WebhookURL     string `json:"webhook_url"`
}

// view is a decision as the API shows it.
type view struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	State          string     `json:"state"`
	Reason         string     `json:"reason,omitempty"`
	DocumentSHA256 string     `json:"document_sha256"`
	DocumentSize   int64      `json:"document_size"`
	Policy         Policy     `json:"policy"`
	Deadline       time.Time  `json:"deadline"`
	Signatures     []sigView  `json:"signatures"`
	FinalAt        *time.Time `json:"final_at,omitempty"`
	PublicURL      string     `json:"public_url"`
	WebhookSecret  string     `json:"webhook_secret,omitempty"` // once, at registration
}

type sigView struct {
	Seq        int       `json:"seq"`
	Slot       int       `json:"slot"`
	PINFL      string    `json:"pinfl"`
	Name       string    `json:"name,omitempty"`
	Indication string    `json:"indication"`
	SignedAt   time.Time `json:"received_at"`
	ProvenTime time.Time `json:"existed_by"`
}

func (s *Service) view(ctx context.Context, d store.Decision) (view, error) {
	var p Policy
	_ = json.Unmarshal(d.Policy, &p)
	v := view{ID: d.ID, Title: d.Title, State: d.State, Reason: d.Reason, DocumentSHA256: hex.EncodeToString(d.DocSHA256),
		DocumentSize: d.DocSize, Policy: p, Deadline: d.Deadline, PublicURL: s.cfg.PublicURL + "/d/" + d.ID, Signatures: []sigView{}}
	if !d.FinalAt.IsZero() {
		t := d.FinalAt
		v.FinalAt = &t
	}
	sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
	if err != nil {
		return v, err
	}
	for _, sg := range sigs {
		var rep validation.Report
		_ = json.Unmarshal(sg.Report, &rep)
		sv := sigView{Seq: sg.Seq, Slot: sg.Slot, PINFL: sg.PINFL, Indication: rep.Indication, SignedAt: sg.CreatedAt}
		if len(rep.Signers) > 0 {
			if rep.Signers[0].Signer != nil {
				sv.Name = rep.Signers[0].Signer.Name
			}
			sv.ProvenTime = rep.Signers[0].BestSignatureTime
		}
		v.Signatures = append(v.Signatures, sv)
	}
	return v, nil
}

// expire moves a pending decision past its deadline to expired.
func (s *Service) expire(ctx context.Context, d *store.Decision) {
	if d.State != store.DecisionPending || s.cfg.Now().Before(d.Deadline) {
		return
	}
	const reason = "the deadline passed"
	nd := *d
	nd.State, nd.Reason = store.DecisionExpired, reason
	if err := s.cfg.Store.SetDecisionState(ctx, d.ID, []string{store.DecisionPending}, store.DecisionExpired, reason, s.cfg.Now(), s.hook(nd)); err == nil {
		*d = nd
	}
}

// hook is the webhook reporting d's state, for the outbox: a JSON body
// signed with HMAC-SHA256 under the decision's webhook secret
// (X-Yagona-Signature: sha256=<hex>). Nil when no webhook was given.
func (s *Service) hook(d store.Decision) *store.Webhook {
	if d.WebhookURL == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"id": d.ID, "state": d.State, "reason": d.Reason, "document_sha256": hex.EncodeToString(d.DocSHA256),
		"public_url": s.cfg.PublicURL + "/d/" + d.ID, "time": s.cfg.Now().UTC().Format(time.RFC3339)})
	return &store.Webhook{Ref: d.ID, URL: d.WebhookURL, Secret: d.WebhookSecret, Body: body, CreatedAt: s.cfg.Now()}
}

// Webhook delivery: up to maxAttempts, the wait doubling from 5 s to an
// hour; a claimed webhook is leased so replicas do not send it twice.
const (
	maxAttempts = 12
	hookLease   = time.Minute
)

// Run delivers due webhooks and expires overdue decisions every interval
// until ctx ends. Every replica may run it: webhooks are leased, state
// changes are conditional.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep runs one round of expiry and delivery.
func (s *Service) Sweep(ctx context.Context) {
	if pending, err := s.cfg.Store.ListDecisions(ctx, store.DecisionPending, 1000); err == nil {
		for i := range pending {
			s.expire(ctx, &pending[i])
		}
	}
	hooks, err := s.cfg.Store.ClaimWebhooks(ctx, s.cfg.Now(), hookLease, maxAttempts, 100)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "webhook claim failed", "err", err)
		return
	}
	for _, h := range hooks {
		err := s.deliver(ctx, h)
		now := s.cfg.Now()
		if err == nil {
			_ = s.cfg.Store.FinishWebhook(ctx, h.ID, true, "", now, time.Time{})
			continue
		}
		wait := min(5*time.Second<<h.Attempts, time.Hour)
		s.cfg.Logger.WarnContext(ctx, "decision webhook failed", "decision", h.Ref, "attempt", h.Attempts+1, "err", err)
		_ = s.cfg.Store.FinishWebhook(ctx, h.ID, false, err.Error(), now, now.Add(wait))
	}
}

func (s *Service) deliver(ctx context.Context, h store.Webhook) error {
	mac := hmac.New(sha256.New, []byte(h.Secret))
	mac.Write(h.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(h.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Yagona-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

func checkWebhook(u string) error {
	if u == "" {
		return nil
	}
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" || (pu.Scheme != "https" && !(pu.Scheme == "http" && (pu.Hostname() == "127.0.0.1" || pu.Hostname() == "localhost"))) {
		return errors.New("webhook_url must be https (or http on loopback)")
	}
	return nil
}

func decodeB64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

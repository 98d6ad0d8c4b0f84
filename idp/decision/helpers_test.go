package decision_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/idp"
	"github.com/yagona/yagona/idp/decision"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
	"github.com/yagona/yagona/pkg/validation"
)

// t0 is the fake clock's start; every certificate is valid around it.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is the fake clock; the service reads it from its own goroutines
// (the sweep after a state change), hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Access tokens the fake Auth knows. A person's token is "person:" + PINFL.
const (
	tokService      = "service"         // registry, scope decisions
	tokOtherService = "other-service"   // another client, scope decisions
	tokNoScope      = "service-noscope" // registry, without scope decisions
	tokNoClient     = "no-client"       // scope decisions, no client id
)

func person(pinfl string) string { return "person:" + pinfl }

// testTokens is the test double of the provider's access-token check.
type testTokens struct{}

func (testTokens) VerifyAccessToken(_ *http.Request, tok string) (*idp.AccessToken, error) {
	switch tok {
	case tokService:
		return &idp.AccessToken{ClientID: "registry", Scopes: []string{"decisions"}}, nil
	case tokOtherService:
		return &idp.AccessToken{ClientID: "other", Scopes: []string{"decisions"}}, nil
	case tokNoScope:
		return &idp.AccessToken{ClientID: "registry", Scopes: []string{"openid"}}, nil
	case tokNoClient:
		return &idp.AccessToken{Scopes: []string{"decisions"}}, nil
	}
	if pinfl, ok := strings.CutPrefix(tok, "person:"); ok {
		return &idp.AccessToken{ClientID: "yagona-cli", PINFL: pinfl, Scopes: []string{"openid", "pinfl"}}, nil
	}
	return nil, errors.New("unknown token")
}

// env is one service on its own SQLite database.
type env struct {
	t     *testing.T
	pki   *pki
	store store.Store
	clock *clock
	svc   *decision.Service
	mux   *http.ServeMux
}

func newEnv(t *testing.T) *env {
	t.Helper()
	p, err := testPKI()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "yagona.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	polYAML, err := configs.Files.ReadFile("validation-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := validation.ParsePolicy(polYAML)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: t0}
	tv, err := trust.NewVerifier(trust.Anchor{Name: "test", Root: p.root,
		Intermediates: []*x509.Certificate{p.issuing}, Status: statuses{revoked: p.revokedSerial}})
	if err != nil {
		t.Fatal(err)
	}
	v := &validation.Validator{Policy: pol, Now: clk.Now, Trust: tv}
	e := &env{t: t, pki: p, store: st, clock: clk, mux: http.NewServeMux()}
	e.svc = decision.New(decision.Config{Store: st, Validator: v, Tokens: testTokens{}, PublicURL: "https://id.test", Now: clk.Now})
	e.svc.Register(e.mux)
	// Cleanups run last-first: background deliveries end before the store
	// closes and its directory is removed.
	t.Cleanup(e.svc.Wait)
	return e
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the service; token "" sends none.
func (e *env) do(method, path, token, contentType string, body []byte) response {
	e.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// doJSON sends v as JSON (a []byte or string is sent as is).
func (e *env) doJSON(method, path, token string, v any) response {
	e.t.Helper()
	var b []byte
	switch v := v.(type) {
	case nil:
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		b = jsonBytes(e.t, v)
	}
	return e.do(method, path, token, "application/json", b)
}

func jsonBytes(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorCode is the error code an error answer carries: the "error" member
// of a JSON body; "" for a body that is not a JSON object (a page).
// Every test reads error bodies through it alone.
func errorCode(r response) string {
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(r.body, &body) != nil {
		return ""
	}
	return body.Error
}

// want checks an answer's status and error code.
func want(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || errorCode(r) != code {
		t.Fatalf("got %d %q, want %d %q; body: %.400s", r.status, errorCode(r), status, code, r.body)
	}
}

// decoded reads a successful JSON answer into a map.
func decoded(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %.200s", r.status, err, r.body)
	}
	return m
}

// doc is the document most tests decide on.
var doc = []byte("Qaror № 42: Toshkent shahrida yangi maktab qurilsin.\n")

// registration is a valid registration of doc, to be changed by a case.
func registration(signers ...string) map[string]any {
	if len(signers) == 0 {
		signers = []string{pinflA, pinflB, pinflC}
	}
	var s []map[string]string
	for _, p := range signers {
		s = append(s, map[string]string{"pinfl": p})
	}
	return map[string]any{"title": "Yangi maktab", "document": base64.StdEncoding.EncodeToString(doc),
		"deadline": t0.Add(24 * time.Hour).Format(time.RFC3339), "policy": map[string]any{"signers": s}}
}

// register registers a decision and returns its id.
func (e *env) register(in map[string]any) string {
	e.t.Helper()
	r := e.doJSON("POST", "/api/v1/decisions", tokService, in)
	want(e.t, r, http.StatusCreated, "")
	id, _ := decoded(e.t, r)["id"].(string)
	if id == "" {
		e.t.Fatalf("no id in %s", r.body)
	}
	return id
}

// signBody is the body that submits a signature.
func signBody(sig []byte) map[string]string {
	return map[string]string{"signature": base64.StdEncoding.EncodeToString(sig)}
}

// submit signs doc as pinfl and submits it with pinfl's token.
func (e *env) submit(id, pinfl string) response {
	e.t.Helper()
	return e.doJSON("POST", "/api/v1/decisions/"+id+"/signatures", person(pinfl), signBody(e.pki.sign(e.t, pinfl, doc)))
}

// mustSign submits pinfl's signature and expects it accepted.
func (e *env) mustSign(id, pinfl string) map[string]any {
	e.t.Helper()
	r := e.submit(id, pinfl)
	want(e.t, r, http.StatusCreated, "")
	return decoded(e.t, r)
}

// decision reads a decision from the store.
func (e *env) decision(id string) store.Decision {
	e.t.Helper()
	d, err := e.store.GetDecision(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// snapshot is everything the workflow writes, to show a refusal wrote
// nothing.
type snapshot struct {
	Decisions  []store.Decision
	Signatures map[string][]store.DecisionSignature
	Webhooks   map[string][]store.Webhook
	Audit      []store.AuditEvent
	LogQueue   []store.LogEntry
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	ctx := context.Background()
	s := snapshot{Signatures: map[string][]store.DecisionSignature{}, Webhooks: map[string][]store.Webhook{}}
	must := func(err error) {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	for _, state := range []string{store.DecisionPending, store.DecisionFinal, store.DecisionRejected, store.DecisionExpired, store.DecisionWithdrawn} {
		list, err := e.store.ListDecisions(ctx, state, 0)
		must(err)
		for _, d := range list {
			full, err := e.store.GetDecision(ctx, d.ID)
			must(err)
			s.Decisions = append(s.Decisions, full)
			s.Signatures[d.ID], err = e.store.DecisionSignatures(ctx, d.ID)
			must(err)
			s.Webhooks[d.ID], err = e.store.ListWebhooks(ctx, d.ID)
			must(err)
		}
	}
	var err error
	s.Audit, err = e.store.ListAudit(ctx, 0, 0)
	must(err)
	s.LogQueue, err = e.store.PendingLogEntries(ctx, 10000)
	must(err)
	return s
}

// unchanged fails the test if the store differs from before.
func (e *env) unchanged(before snapshot) {
	e.t.Helper()
	if after := e.snapshot(); !reflect.DeepEqual(before, after) {
		b, _ := json.MarshalIndent(before, "", " ")
		a, _ := json.MarshalIndent(after, "", " ")
		e.t.Fatalf("the store changed on a refusal:\nbefore: %.2000s\nafter: %.2000s", b, a)
	}
}

// hookReceiver is a service's webhook endpoint on 127.0.0.1 that answers
// with the statuses given in turn (the last one repeated).
type hookReceiver struct {
	URL      string
	requests chan hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{requests: make(chan hookRequest, 100)}
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		mu.Lock()
		st := statuses[min(n, len(statuses)-1)]
		n++
		mu.Unlock()
		h.requests <- hookRequest{header: r.Header.Clone(), body: buf.Bytes()}
		if st == http.StatusFound {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// receive waits for the next webhook; the wait only guards against a hang.
func (h *hookReceiver) receive(t *testing.T) hookRequest {
	t.Helper()
	select {
	case r := <-h.requests:
		return r
	case <-time.After(time.Minute):
		t.Fatal("no webhook arrived")
		return hookRequest{}
	}
}

// none checks that no webhook arrived.
func (h *hookReceiver) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-h.requests:
		t.Fatalf("unexpected webhook: %s", r.body)
	default:
	}
}

func path(id string, tail ...string) string {
	return "/api/v1/decisions/" + id + strings.Join(tail, "")
}

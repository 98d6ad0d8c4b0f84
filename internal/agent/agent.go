// Package agent is the local signing agent a person runs next to their
// browser (`yagona agent`): it holds the person's keys, unlocked at start,
// and signs the login statement for the identity provider's login page.
//
// It listens on loopback only and answers only configured page origins
// (CORS, with Private Network Access). It signs only a well-formed login
// statement (pkg/statement, docs/login.md) whose origin line equals the
// Origin of the page asking, so a page of another site cannot get a
// signature that logs in to the provider; and it never signs a login
// statement as a document (a 422 login_statement). Requests whose Host is
// not a loopback name are refused (DNS rebinding).
//
// HTTP surface (JSON; errors {"error", "error_description"} with 4xx):
//
//	GET  /v1/keys   the keys: id (hex SHA-256 of the certificate), subject,
//	                pinfl, organization, not_after, certificate (base64 DER)
//	POST /v1/sign   {"key": id, "to_sign": text} -> {"signature": base64
//	                DER CMS SignedData, attached}
//	POST /v1/sign-document {"key": id, "document": base64, "attached": bool}
//	                -> {"signature": base64 DER CMS, CAdES B-B, detached
//	                unless attached}: for the allowed origins only (the
//	                national portal), at most 8 MiB, never a login
//	                statement, each one logged with the document's SHA-256
//
// GET /v1/keys without an Origin header is allowed (the CLI); POST always
// needs an allowed Origin.
package agent

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/statement"
)

// Identity is one key and its certificate (and chain, issuer first).
type Identity struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Key         crypto.Signer
}

// Config configures an Agent.
type Config struct {
	Identities []Identity
	Origins    []string // allowed page origins, exact, e.g. https://id.example.uz
	Now        func() time.Time
	Logger     *slog.Logger
}

// Agent signs challenges. Serve Handler on a loopback listener.
type Agent struct {
	cfg  Config
	keys map[string]Identity
	list []keyInfo
}

type keyInfo struct {
	ID           string `json:"id"`
	Subject      string `json:"subject"`
	PINFL        string `json:"pinfl,omitempty"`
	Organization string `json:"organization,omitempty"`
	NotAfter     string `json:"not_after"`
	Certificate  string `json:"certificate"`
}

// New checks that every key matches its certificate.
func New(cfg Config) (*Agent, error) {
	if len(cfg.Origins) == 0 {
		return nil, errors.New("agent: at least one origin is required")
	}
	for _, o := range cfg.Origins {
		if !validOrigin(o) {
			return nil, fmt.Errorf("agent: origin %q must be scheme://host[:port]", o)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Agent{cfg: cfg, keys: map[string]Identity{}}
	for _, id := range cfg.Identities {
		pub, ok := id.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(id.Certificate.PublicKey) {
			return nil, fmt.Errorf("agent: the key does not match the certificate %s", id.Certificate.Subject)
		}
		sum := sha256.Sum256(id.Certificate.Raw)
		kid := hex.EncodeToString(sum[:])
		who := ident.FromCertificate(id.Certificate)
		a.keys[kid] = id
		a.list = append(a.list, keyInfo{ID: kid, Subject: id.Certificate.Subject.CommonName, PINFL: who.PINFL,
			Organization: who.Organization, NotAfter: id.Certificate.NotAfter.UTC().Format(time.RFC3339),
			Certificate: base64.StdEncoding.EncodeToString(id.Certificate.Raw)})
	}
	return a, nil
}

func validOrigin(o string) bool {
	scheme, rest, ok := strings.Cut(o, "://")
	return ok && (scheme == "https" || scheme == "http") && rest != "" && !strings.ContainsAny(rest, "/?#@ ")
}

const maxBody = 16 << 10

type apiErr struct {
	status int
	code   string
	desc   string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, e apiErr) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// Handler serves the agent's HTTP surface.
func (a *Agent) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			fail(w, apiErr{http.StatusForbidden, "forbidden", "the agent answers only on loopback host names"})
			return
		}
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(a.cfg.Origins, origin)
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			if !allowed {
				fail(w, apiErr{http.StatusForbidden, "forbidden", "origin not allowed"})
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && !allowed {
			fail(w, apiErr{http.StatusForbidden, "forbidden", "origin not allowed"})
			return
		}
		switch {
		case r.URL.Path == "/v1/keys" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"keys": a.list})
		case r.URL.Path == "/v1/sign" && r.Method == http.MethodPost:
			if !allowed {
				fail(w, apiErr{http.StatusForbidden, "forbidden", "signing needs an allowed Origin"})
				return
			}
			a.sign(w, r, origin)
		case r.URL.Path == "/v1/sign-document" && r.Method == http.MethodPost:
			if !allowed {
				fail(w, apiErr{http.StatusForbidden, "forbidden", "signing needs an allowed Origin"})
				return
			}
			a.signDocument(w, r, origin)
		case r.URL.Path == "/v1/keys" || r.URL.Path == "/v1/sign" || r.URL.Path == "/v1/sign-document":
			fail(w, apiErr{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"})
		default:
			fail(w, apiErr{http.StatusNotFound, "not_found", "no such endpoint"})
		}
	})
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}

// decode reads a request body as exactly one JSON object with no unknown
// fields into in, and returns the identity whose name it left in *key;
// otherwise it answers 400 or 404 itself.
func (a *Agent) decode(w http.ResponseWriter, body []byte, in any, key *string) (Identity, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil || dec.More() {
		fail(w, apiErr{http.StatusBadRequest, "invalid_request", "malformed JSON"})
		return Identity{}, false
	}
	id, ok := a.keys[*key]
	if !ok {
		fail(w, apiErr{http.StatusNotFound, "unknown_key", "no such key"})
		return Identity{}, false
	}
	return id, true
}

func (a *Agent) sign(w http.ResponseWriter, r *http.Request, origin string) {
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mt) != "application/json" {
		fail(w, apiErr{http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		fail(w, apiErr{http.StatusBadRequest, "invalid_request", "cannot read the body"})
		return
	}
	if len(body) > maxBody {
		fail(w, apiErr{http.StatusRequestEntityTooLarge, "invalid_request", "body too large"})
		return
	}
	var in struct {
		Key    string `json:"key"`
		ToSign string `json:"to_sign"`
	}
	id, ok := a.decode(w, body, &in, &in.Key)
	if !ok {
		return
	}
	ch, err := statement.Parse([]byte(in.ToSign))
	if err != nil {
		fail(w, apiErr{http.StatusForbidden, "bad_challenge", "not a login statement this agent signs: " + err.Error()})
		return
	}
	if ch.Origin != origin {
		a.cfg.Logger.WarnContext(r.Context(), "refused to sign a challenge for another origin", "page", origin, "challenge_origin", ch.Origin)
		fail(w, apiErr{http.StatusForbidden, "origin_mismatch", "the challenge is for another origin than the page asking"})
		return
	}
	der, err := cms.Sign([]byte(in.ToSign), id.Certificate, id.Chain, id.Key, false, a.cfg.Now())
	if err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "signing failed", "err", err)
		fail(w, apiErr{http.StatusUnprocessableEntity, "sign_failed", "the key could not sign"})
		return
	}
	a.cfg.Logger.InfoContext(r.Context(), "signed a login challenge", "origin", origin, "key", in.Key[:16])
	writeJSON(w, http.StatusOK, map[string]string{"signature": base64.StdEncoding.EncodeToString(der)})
}

// maxDocument caps a document the agent signs.
const maxDocument = 8 << 20

func (a *Agent) signDocument(w http.ResponseWriter, r *http.Request, origin string) {
	if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(mt) != "application/json" {
		fail(w, apiErr{http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDocument*4/3+4096))
	if err != nil || len(body) > maxDocument*4/3+4095 {
		fail(w, apiErr{http.StatusRequestEntityTooLarge, "invalid_request", "document too large"})
		return
	}
	var in struct {
		Key      string `json:"key"`
		Document string `json:"document"`
		Attached bool   `json:"attached"`
	}
	id, ok := a.decode(w, body, &in, &in.Key)
	if !ok {
		return
	}
	doc, err := base64.StdEncoding.DecodeString(in.Document)
	if err != nil || len(doc) == 0 || len(doc) > maxDocument {
		fail(w, apiErr{http.StatusBadRequest, "invalid_request", "document must be base64, 1 byte to 8 MiB"})
		return
	}
	if statement.IsLoginStatement(doc) {
		a.cfg.Logger.WarnContext(r.Context(), "refused to sign a login statement as a document", "origin", origin)
		fail(w, apiErr{http.StatusUnprocessableEntity, "login_statement",
			"this is a login statement, not a document: a login is signed through /v1/sign by the login page, never as a document"})
		return
	}
	der, err := cms.Sign(doc, id.Certificate, id.Chain, id.Key, !in.Attached, a.cfg.Now())
	if err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "document signing failed", "err", err)
		fail(w, apiErr{http.StatusUnprocessableEntity, "sign_failed", "the key could not sign"})
		return
	}
	sum := sha256.Sum256(doc)
	a.cfg.Logger.InfoContext(r.Context(), "signed a document", "origin", origin, "key", in.Key[:16], "sha256", hex.EncodeToString(sum[:]))
	writeJSON(w, http.StatusOK, map[string]string{"signature": base64.StdEncoding.EncodeToString(der)})
}

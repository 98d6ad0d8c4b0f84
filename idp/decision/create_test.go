package decision_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/idp/decision"
	"github.com/yagona/yagona/pkg/store"
)

// with returns registration() changed by f.
func with(f func(m map[string]any)) map[string]any {
	m := registration()
	f(m)
	return m
}

// withPolicy returns registration() with the policy p.
func withPolicy(p map[string]any) map[string]any {
	return with(func(m map[string]any) { m["policy"] = p })
}

func signers(ss ...map[string]string) []map[string]string { return ss }

func pinflSigner(p string) map[string]string { return map[string]string{"pinfl": p} }

var docSHA256 = func() string { h := sha256.Sum256(doc); return hex.EncodeToString(h[:]) }()

func TestCreateRefusals(t *testing.T) {
	many := make([]map[string]string, 51)
	for i := range many {
		many[i] = pinflSigner("4" + strings.Repeat("0", 11) + string(rune('0'+i/10)) + string(rune('0'+i%10)))
	}
	hashOnly := func(sum string, size int) map[string]any {
		return with(func(m map[string]any) {
			delete(m, "document")
			m["document_sha256"], m["document_size"] = sum, size
		})
	}
	for _, tc := range []struct {
		name        string
		token       string
		contentType string
		body        any
		status      int
		code        string
	}{
		{"no token", "", "application/json", registration(), 401, "unauthorized"},
		{"unknown token", "forged", "application/json", registration(), 401, "unauthorized"},
		{"a person's token", person(pinflA), "application/json", registration(), 403, "insufficient_scope"},
		{"no scope decisions", tokNoScope, "application/json", registration(), 403, "insufficient_scope"},
		{"no client id", tokNoClient, "application/json", registration(), 403, "insufficient_scope"},
		{"no content type", tokService, "", registration(), 415, "invalid_request"},
		{"text/plain", tokService, "text/plain", registration(), 415, "invalid_request"},
		{"malformed JSON", tokService, "application/json", `{"title": `, 400, "invalid_request"},
		{"unknown field", tokService, "application/json", with(func(m map[string]any) { m["owner"] = "x" }), 400, "invalid_request"},
		{"unknown policy field", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA)), "quorum": 1}), 400, "invalid_request"},
		{"two JSON values", tokService, "application/json", `{"title":"a"} {"title":"b"}`, 400, "invalid_request"},
		{"wrong type", tokService, "application/json", with(func(m map[string]any) { m["title"] = 5 }), 400, "invalid_request"},
		{"body over the limit", tokService, "application/json",
			bytes.Repeat([]byte(" "), decision.MaxDocument*4/3+64<<10+1), 413, "too_large"},
		{"no title", tokService, "application/json", with(func(m map[string]any) { delete(m, "title") }), 400, "invalid_decision"},
		{"blank title", tokService, "application/json", with(func(m map[string]any) { m["title"] = " \t" }), 400, "invalid_decision"},
		{"title of 501 bytes", tokService, "application/json",
			with(func(m map[string]any) { m["title"] = strings.Repeat("a", 501) }), 400, "invalid_decision"},
		{"no deadline", tokService, "application/json", with(func(m map[string]any) { delete(m, "deadline") }), 400, "invalid_decision"},
		{"deadline not RFC 3339", tokService, "application/json",
			with(func(m map[string]any) { m["deadline"] = "2026-03-03" }), 400, "invalid_decision"},
		{"deadline passed", tokService, "application/json",
			with(func(m map[string]any) { m["deadline"] = t0.Add(-time.Second).Format(time.RFC3339) }), 400, "invalid_decision"},
		{"deadline now", tokService, "application/json",
			with(func(m map[string]any) { m["deadline"] = t0.Format(time.RFC3339) }), 400, "invalid_decision"},
		{"no policy", tokService, "application/json", with(func(m map[string]any) { delete(m, "policy") }), 400, "invalid_decision"},
		{"no signers", tokService, "application/json", withPolicy(map[string]any{"signers": signers()}), 400, "invalid_decision"},
		{"51 signers", tokService, "application/json", withPolicy(map[string]any{"signers": many}), 400, "invalid_decision"},
		{"PINFL and organization", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{"pinfl": pinflA, "tin": orgTIN})}), 400, "invalid_decision"},
		{"PINFL and position", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{"pinfl": pinflA, "position": "Direktor"})}), 400, "invalid_decision"},
		{"PINFL of 13 digits", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner("4111111111111"))}), 400, "invalid_decision"},
		{"PINFL with a letter", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner("4111111111111x"))}), 400, "invalid_decision"},
		{"empty signer", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{})}), 400, "invalid_decision"},
		{"TIN without position", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{"tin": orgTIN})}), 400, "invalid_decision"},
		{"TIN with a blank position", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{"tin": orgTIN, "position": "  "})}), 400, "invalid_decision"},
		{"TIN of 8 digits", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(map[string]string{"tin": "20123456", "position": "Direktor"})}), 400, "invalid_decision"},
		{"unknown order", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA)), "order": "random"}), 400, "invalid_decision"},
		{"required above the signers", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA)), "required": 2}), 400, "invalid_decision"},
		{"required negative", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA)), "required": -1}), 400, "invalid_decision"},
		{"sequential N of M", tokService, "application/json",
			withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), pinflSigner(pinflB)), "order": "sequential", "required": 1}),
			400, "invalid_decision"},
		{"webhook over http", tokService, "application/json",
			with(func(m map[string]any) { m["webhook_url"] = "http://registry.gov.uz/hook" }), 400, "invalid_decision"},
		{"webhook over ftp", tokService, "application/json",
			with(func(m map[string]any) { m["webhook_url"] = "ftp://registry.gov.uz/hook" }), 400, "invalid_decision"},
		{"webhook without host", tokService, "application/json",
			with(func(m map[string]any) { m["webhook_url"] = "https:///hook" }), 400, "invalid_decision"},
		{"webhook not a URL", tokService, "application/json",
			with(func(m map[string]any) { m["webhook_url"] = "://x" }), 400, "invalid_decision"},
		{"document not base64", tokService, "application/json",
			with(func(m map[string]any) { m["document"] = "not base64!" }), 400, "invalid_decision"},
		{"document over 32 MiB", tokService, "application/json", with(func(m map[string]any) {
			m["document"] = base64.StdEncoding.EncodeToString(make([]byte, decision.MaxDocument+1))
		}), 400, "invalid_decision"},
		{"document is a login statement", tokService, "application/json", with(func(m map[string]any) {
			m["document"] = base64.StdEncoding.EncodeToString([]byte("Yagona login statement v2\nI log in with my authentication key"))
		}), 422, "login_statement"},
		{"document is a version 1 login challenge", tokService, "application/json", with(func(m map[string]any) {
			m["document"] = base64.StdEncoding.EncodeToString([]byte("yagona-login-v1\norigin: https://id.example.uz"))
		}), 422, "login_statement"},
		{"document and hash", tokService, "application/json",
			with(func(m map[string]any) { m["document_sha256"], m["document_size"] = docSHA256, len(doc) }), 400, "invalid_decision"},
		{"neither document nor hash", tokService, "application/json",
			with(func(m map[string]any) { delete(m, "document") }), 400, "invalid_decision"},
		{"hash not hex", tokService, "application/json", hashOnly(strings.Repeat("z", 64), len(doc)), 400, "invalid_decision"},
		{"hash too short", tokService, "application/json", hashOnly(docSHA256[:62], len(doc)), 400, "invalid_decision"},
		{"hash without size", tokService, "application/json", hashOnly(docSHA256, 0), 400, "invalid_decision"},
		{"hash with negative size", tokService, "application/json", hashOnly(docSHA256, -1), 400, "invalid_decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var body []byte
			switch b := tc.body.(type) {
			case string:
				body = []byte(b)
			case []byte:
				body = b
			default:
				body = jsonBytes(t, b)
			}
			before := e.snapshot()
			r := e.do("POST", "/api/v1/decisions", tc.token, tc.contentType, body)
			want(t, r, tc.status, tc.code)
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			e.unchanged(before)
		})
	}
}

func TestCreate(t *testing.T) {
	hashOnly := with(func(m map[string]any) {
		delete(m, "document")
		m["document_sha256"], m["document_size"] = strings.ToUpper(docSHA256), 1234
	})
	for _, tc := range []struct {
		name     string
		in       map[string]any
		size     int64
		held     bool
		order    string
		required float64
	}{
		{"document", registration(), int64(len(doc)), true, "parallel", 3},
		{"hash only", hashOnly, 1234, false, "parallel", 3},
		{"order in any case", withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), pinflSigner(pinflB)), "order": " Sequential "}),
			int64(len(doc)), true, "sequential", 2},
		{"one of two", withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), map[string]string{"tin": orgTIN, "position": "Direktor"}),
			"required": 1}), int64(len(doc)), true, "parallel", 1},
		{"webhook on 127.0.0.1", with(func(m map[string]any) { m["webhook_url"] = "http://127.0.0.1:9/hook" }), int64(len(doc)), true, "parallel", 3},
		{"webhook on localhost", with(func(m map[string]any) { m["webhook_url"] = "http://localhost:9/hook" }), int64(len(doc)), true, "parallel", 3},
		{"document in URL-safe base64", with(func(m map[string]any) { m["document"] = base64.RawURLEncoding.EncodeToString(doc) }),
			int64(len(doc)), true, "parallel", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.doJSON("POST", "/api/v1/decisions", tokService, tc.in)
			want(t, r, http.StatusCreated, "")
			v := decoded(t, r)
			id, _ := v["id"].(string)
			pol, _ := v["policy"].(map[string]any)
			sigs, isList := v["signatures"].([]any)
			if v["state"] != "pending" || v["document_sha256"] != docSHA256 || v["document_size"] != float64(tc.size) ||
				v["public_url"] != "https://id.test/d/"+id || v["webhook_secret"] == "" || pol["order"] != tc.order ||
				pol["required"] != tc.required || !isList || len(sigs) != 0 {
				t.Fatalf("view: %s", r.body)
			}
			d := e.decision(id)
			if d.ClientID != "registry" || d.State != store.DecisionPending || !d.Deadline.Equal(t0.Add(24*time.Hour)) ||
				d.WebhookSecret != v["webhook_secret"] || (d.Document != nil) != tc.held || hex.EncodeToString(d.DocSHA256) != docSHA256 {
				t.Fatalf("stored: %+v", d)
			}
			// The secret is shown once.
			got := decoded(t, e.doJSON("GET", path(id), tokService, nil))
			if _, ok := got["webhook_secret"]; ok || got["id"] != id {
				t.Fatalf("GET: %v", got)
			}
		})
	}
}

// TestCreateGivesNewIDs: two registrations of one document are two
// decisions.
func TestCreateGivesNewIDs(t *testing.T) {
	e := newEnv(t)
	a, b := e.register(registration()), e.register(registration())
	if a == b || len(a) < 16 {
		t.Fatalf("ids %q %q", a, b)
	}
}

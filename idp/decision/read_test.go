package decision_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/translog"
)

// TestReadRefusals covers the reads: the decision, its document, the
// combined CMS, the evidence bundle and the list awaiting a person.
func TestReadRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		path   string // with {id}
		token  string
		status int
		code   string
	}{
		{"get: no token", pending(), "/api/v1/decisions/{id}", "", 401, "unauthorized"},
		{"get: unknown id", pending(), "/api/v1/decisions/nosuchdecision", tokService, 404, "not_found"},
		{"get: id too long", pending(), "/api/v1/decisions/" + strings.Repeat("a", 65), tokService, 404, "not_found"},
		{"document: no token", pending(), "/api/v1/decisions/{id}/document", "", 401, "unauthorized"},
		{"document: unknown id", pending(), "/api/v1/decisions/nosuchdecision/document", person(pinflA), 404, "not_found"},
		{"document: registered by hash", hashOnlyDecision(), "/api/v1/decisions/{id}/document", person(pinflA), 404, "document_not_held"},
		{"awaiting: no token", pending(), "/api/v1/decisions", "", 401, "unauthorized"},
		{"awaiting: a service", pending(), "/api/v1/decisions", tokService, 403, "insufficient_scope"},
		{"combined: unknown id", pending(), "/api/v1/decisions/nosuchdecision/combined", "", 404, "not_found"},
		{"combined: pending", signedBy(pending(), pinflA), "/api/v1/decisions/{id}/combined", "", 409, "not_final"},
		{"combined: rejected", rejected, "/api/v1/decisions/{id}/combined", "", 409, "not_final"},
		{"combined: withdrawn", withdrawn, "/api/v1/decisions/{id}/combined", "", 409, "not_final"},
		{"combined: expired", expired, "/api/v1/decisions/{id}/combined", "", 409, "not_final"},
		{"evidence: unknown id", pending(), "/api/v1/decisions/nosuchdecision/evidence", "", 404, "not_found"},
		{"evidence: id too long", pending(), "/api/v1/decisions/" + strings.Repeat("a", 65) + "/evidence", "", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			before := e.snapshot()
			want(t, e.do("GET", strings.ReplaceAll(tc.path, "{id}", id), tc.token, "", nil), tc.status, tc.code)
			e.unchanged(before)
		})
	}
}

func TestGetDocument(t *testing.T) {
	e := newEnv(t)
	id := e.register(registration())
	r := e.do("GET", path(id, "/document"), person(pinflA), "", nil)
	if r.status != 200 || !bytes.Equal(r.body, doc) || r.header.Get("X-Document-SHA256") != docSHA256 ||
		r.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("document: %d %v %q", r.status, r.header, r.body)
	}
}

// TestAwaiting: the list holds the pending decisions the person may sign
// now.
func TestAwaiting(t *testing.T) {
	e := newEnv(t)
	parallel := e.register(registration(pinflA, pinflB))
	inOrder := sequential(pinflA, pinflB)(e)
	position := byPosition(e)
	done := signedBy(pending(pinflA, pinflB), pinflA)(e)
	e.register(registration(pinflC)) // for C only
	gone := rejected(e)
	late := e.register(with(func(m map[string]any) { m["deadline"] = t0.Add(time.Hour).Format(time.RFC3339) }))
	e.clock.Advance(time.Hour) // late is past its deadline, not yet swept
	for _, tc := range []struct {
		pinfl string
		want  []string
	}{
		{pinflA, []string{parallel, inOrder, position}},
		{pinflB, []string{parallel, position, done}},
		{pinflStranger, []string{position}},
		{pinflDirector, []string{position}},
	} {
		var out struct {
			Decisions []struct{ ID string } `json:"decisions"`
		}
		r := e.do("GET", "/api/v1/decisions", person(tc.pinfl), "", nil)
		if err := json.Unmarshal(r.body, &out); r.status != 200 || err != nil {
			t.Fatalf("%s: %d %s", tc.pinfl, r.status, r.body)
		}
		var ids []string
		for _, d := range out.Decisions {
			ids = append(ids, d.ID)
		}
		slices.Sort(ids)
		slices.Sort(tc.want)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s awaits %v, want %v (gone %s, late %s)", tc.pinfl, ids, tc.want, gone, late)
		}
	}
	// An empty list is a list.
	e.clock.Advance(48 * time.Hour)
	if r := e.do("GET", "/api/v1/decisions", person(pinflA), "", nil); !bytes.Contains(r.body, []byte(`"decisions":[]`)) {
		t.Fatalf("empty list: %s", r.body)
	}
}

// TestDownloads: a final decision's combined CMS holds every signature
// over the document; its evidence bundle holds each signature with its
// report, the combined CMS and, once integrated, the log entry.
func TestDownloads(t *testing.T) {
	e := newEnv(t)
	id := signedBy(pending(), pinflA, pinflB, pinflC)(e)
	r := e.do("GET", path(id, "/combined"), "", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pkcs7-signature" ||
		!strings.Contains(r.header.Get("Content-Disposition"), "decision-"+id+".p7s") {
		t.Fatalf("combined: %d %v", r.status, r.header)
	}
	sd, err := cms.Verify(r.body, doc)
	if err != nil || len(sd.Signers) != 3 {
		t.Fatalf("combined CMS: %v", err)
	}
	if _, err := cms.Verify(r.body, []byte("another document")); err == nil {
		t.Fatal("the combined CMS verifies over another document")
	}

	type evidence struct {
		ID         string `json:"id"`
		State      string `json:"state"`
		DocSHA256  string `json:"document_sha256"`
		Signatures []struct {
			PINFL     string          `json:"pinfl"`
			Slot      int             `json:"slot"`
			Signature []byte          `json:"signature"`
			Report    json.RawMessage `json:"report"`
		} `json:"signatures"`
		Combined []byte    `json:"combined"`
		FinalAt  time.Time `json:"final_at"`
		Log      *struct {
			Index    int64  `json:"index"`
			ProofURL string `json:"proof_url"`
		} `json:"log"`
	}
	read := func() evidence {
		t.Helper()
		var ev evidence
		r := e.do("GET", path(id, "/evidence"), "", "", nil)
		if err := json.Unmarshal(r.body, &ev); r.status != 200 || err != nil {
			t.Fatalf("evidence: %d %s", r.status, r.body)
		}
		return ev
	}
	ev := read()
	if ev.ID != id || ev.State != "final" || ev.DocSHA256 != docSHA256 || len(ev.Signatures) != 3 || !ev.FinalAt.Equal(t0) ||
		!bytes.Equal(ev.Combined, e.decision(id).Combined) || ev.Log != nil {
		t.Fatalf("evidence: %+v", ev)
	}
	for i, s := range ev.Signatures {
		if s.PINFL != []string{pinflA, pinflB, pinflC}[i] || s.Slot != i || !bytes.Contains(s.Report, []byte(`"TOTAL-PASSED"`)) {
			t.Fatalf("signature %d: %+v", i, s)
		}
		if _, err := cms.Verify(s.Signature, doc); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
	}

	// The log sequencer integrates the entry: the bundle points to it.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	lg, err := translog.New(translog.Config{Origin: "id.test/log", Key: key}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := lg.Integrate(context.Background()); n != 1 || err != nil {
		t.Fatalf("integrated %d: %v", n, err)
	}
	if ev := read(); ev.Log == nil || ev.Log.Index != 0 || ev.Log.ProofURL != "/log/proof/decision/"+id {
		t.Fatalf("log: %+v", ev.Log)
	}
}

// TestEvidencePending: before final the bundle has the signatures so far
// and no combined CMS.
func TestEvidencePending(t *testing.T) {
	e := newEnv(t)
	id := signedBy(pending(), pinflB)(e)
	r := e.do("GET", path(id, "/evidence"), "", "", nil)
	var ev map[string]any
	if err := json.Unmarshal(r.body, &ev); r.status != 200 || err != nil {
		t.Fatalf("evidence: %d %s", r.status, r.body)
	}
	sigs, _ := ev["signatures"].([]any)
	if ev["state"] != "pending" || len(sigs) != 1 || ev["combined"] != nil || ev["final_at"] != nil {
		t.Fatalf("evidence: %s", r.body)
	}
}

// upload is a multipart form with the file field "document".
func upload(t *testing.T, field string, content []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	f, err := w.CreateFormFile(field, "decision.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(content)
	_ = w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func TestPublicPage(t *testing.T) {
	match := func(t *testing.T) (string, []byte) { return upload(t, "document", doc) }
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		id     string
		method string
		form   func(t *testing.T) (string, []byte)
		status int
		has    []string
	}{
		{name: "unknown id", setup: pending(), id: "nosuchdecision", method: "GET", status: 404},
		{name: "id too long", setup: pending(), id: strings.Repeat("a", 65), method: "GET", status: 404},
		{name: "check: unknown id", setup: pending(), id: "nosuchdecision", method: "POST", form: match, status: 404},
		{name: "check: no form", setup: pending(), method: "POST", status: 400},
		{name: "check: no document field", setup: pending(), method: "POST", status: 400,
			form: func(t *testing.T) (string, []byte) { return upload(t, "file", doc) }},
		{name: "check: not multipart", setup: pending(), method: "POST", status: 400,
			form: func(*testing.T) (string, []byte) { return "application/x-www-form-urlencoded", []byte("document=x") }},
		{name: "check: document too large", setup: pending(), method: "POST", status: 413,
			form: func(t *testing.T) (string, []byte) { return upload(t, "document", make([]byte, 33<<20)) }},
		{name: "pending", setup: pending(), method: "GET", status: 200, has: []string{"Yangi maktab", `data-state="pending"`, docSHA256}},
		{name: "final", setup: signedBy(pending(pinflA), pinflA), method: "GET", status: 200,
			has: []string{`data-state="final"`, "Official " + pinflA + " (" + pinflA + ") — TOTAL-PASSED"}},
		{name: "rejected", setup: rejected, method: "GET", status: 200, has: []string{`data-state="rejected"`, "rejected by " + pinflA}},
		{name: "check: the document", setup: pending(), method: "POST", form: match, status: 200,
			has: []string{`id="check" class="status ok"`, "The document matches"}},
		{name: "check: another document", setup: pending(), method: "POST", status: 200,
			form: func(t *testing.T) (string, []byte) { return upload(t, "document", []byte("Qaror № 43\n")) },
			has:  []string{`id="check" class="status error"`, "does NOT match"}},
		{name: "check: by hash", setup: hashOnlyDecision(), method: "POST", form: match, status: 200, has: []string{"The document matches"}},
		{name: "title escaped", setup: pendingWith(with(func(m map[string]any) { m["title"] = "<script>x</script>" })), method: "GET",
			status: 200, has: []string{"&lt;script&gt;x&lt;/script&gt;"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			if tc.id != "" {
				id = tc.id
			}
			var ct string
			var body []byte
			if tc.form != nil {
				ct, body = tc.form(t)
			}
			before := e.snapshot()
			r := e.do(tc.method, "/d/"+id+"?lang=en", "", ct, body)
			want(t, r, tc.status, "")
			for _, s := range tc.has {
				if !bytes.Contains(r.body, []byte(s)) {
					t.Errorf("page lacks %q:\n%s", s, r.body)
				}
			}
			if tc.status == 200 && (!strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") ||
				r.header.Get("X-Content-Type-Options") != "nosniff") {
				t.Errorf("headers: %v", r.header)
			}
			if strings.Contains(string(r.body), "<script>x") {
				t.Error("title not escaped")
			}
			e.unchanged(before)
		})
	}
}

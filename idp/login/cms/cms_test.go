package cms

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/login/logintest"
	"github.com/yagona/yagona/idp/pages"
	cmssig "github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/statement"
)

const reqID = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// fixture is the method on a test host, with one pending request and a
// signer.
type fixture struct {
	t    *testing.T
	h    *logintest.Host
	req  *logintest.Request
	mux  *http.ServeMux
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	mu   sync.Mutex
	now  time.Time
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, h: logintest.New("https://id.example", "https://rp.example/cb?code=c"), mux: http.NewServeMux(), now: time.Now()}
	f.h.Clock = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	f.req = f.h.AddRequest(reqID, "rp1", "browser-1")
	for _, rt := range New(Config{}).Routes(f.h) {
		f.mux.Handle(rt.Pattern, rt.Handler)
	}
	f.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Signer"}, NotBefore: f.now.Add(-time.Hour),
		NotAfter: f.now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &f.key.PublicKey, f.key)
	if err != nil {
		t.Fatal(err)
	}
	f.cert, _ = x509.ParseCertificate(der)
	return f
}

func (f *fixture) advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

func (f *fixture) post(path, ctype, body string) (int, map[string]any) {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func (f *fixture) postJSON(path string, v any) (int, map[string]any) {
	b, _ := json.Marshal(v)
	return f.post(path, "application/json", string(b))
}

// begin asks for a challenge and returns the text to sign.
func (f *fixture) begin() string {
	st, out := f.postJSON(PathChallenge, map[string]string{"request": reqID})
	if st != http.StatusOK {
		f.t.Fatalf("challenge: %d %v", st, out)
	}
	return out["to_sign"].(string)
}

func (f *fixture) sign(content string, detached bool) string {
	der, err := cmssig.Sign([]byte(content), f.cert, nil, f.key, detached, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// other is the statement text with edit applied: a statement that parses
// but is not the one issued.
func (f *fixture) other(text string, edit func(s *statement.Statement)) string {
	st, err := statement.Parse([]byte(text))
	if err != nil {
		f.t.Fatal(err)
	}
	edit(&st)
	b, err := statement.Build(st)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) finish(sig string) (int, map[string]any) {
	return f.postJSON(PathCertificate, map[string]string{"request": reqID, "signature": sig})
}

// TestSteps runs the method's two steps against a test host: the proof it
// hands over, and each refusal of its own.
func TestSteps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		run    func(f *fixture) (int, map[string]any)
		status int
		code   string // "" for a login
		failed bool   // the host was told of a failure
	}{
		{"attached", func(f *fixture) (int, map[string]any) { return f.finish(f.sign(f.begin(), false)) }, http.StatusOK, "", false},
		{"detached", func(f *fixture) (int, map[string]any) { return f.finish(f.sign(f.begin(), true)) }, http.StatusOK, "", false},
		{"source limited", func(f *fixture) (int, map[string]any) {
			f.h.LimitSources = true
			return f.postJSON(PathChallenge, map[string]string{"request": reqID})
		}, http.StatusTooManyRequests, login.CodeRateLimited, false},
		{"service limited", func(f *fixture) (int, map[string]any) {
			sig := f.sign(f.begin(), false)
			f.h.LimitClients = true
			return f.finish(sig)
		}, http.StatusTooManyRequests, login.CodeRateLimited, true},
		{"challenge not JSON", func(f *fixture) (int, map[string]any) {
			return f.post(PathChallenge, "text/plain", `{"request":"x"}`)
		}, http.StatusUnsupportedMediaType, login.CodeInvalidRequest, false},
		{"challenge too large", func(f *fixture) (int, map[string]any) {
			return f.postJSON(PathChallenge, map[string]string{"request": strings.Repeat("A", maxBeginBody)})
		}, http.StatusRequestEntityTooLarge, login.CodeInvalidRequest, false},
		{"unknown request", func(f *fixture) (int, map[string]any) {
			return f.postJSON(PathChallenge, map[string]string{"request": strings.Repeat("B", 43)})
		}, http.StatusBadRequest, login.CodeRequestExpired, true},
		{"state down", func(f *fixture) (int, map[string]any) {
			f.h.StateErr = errors.New("cache down")
			return f.postJSON(PathChallenge, map[string]string{"request": reqID})
		}, http.StatusServiceUnavailable, login.CodeUnavailable, false},
		{"no challenge asked", func(f *fixture) (int, map[string]any) { return f.finish(f.sign("anything", false)) },
			http.StatusBadRequest, codeChallengeExpired, true},
		{"challenge reused", func(f *fixture) (int, map[string]any) {
			sig := f.sign(f.begin(), false)
			if st, out := f.finish(sig); st != http.StatusOK {
				f.t.Fatalf("first use: %d %v", st, out)
			}
			return f.finish(sig)
		}, http.StatusBadRequest, codeChallengeExpired, true},
		{"challenge expired", func(f *fixture) (int, map[string]any) {
			sig := f.sign(f.begin(), false)
			f.advance(121 * time.Second)
			return f.finish(sig)
		}, http.StatusBadRequest, codeChallengeExpired, true},
		{"another browser", func(f *fixture) (int, map[string]any) {
			sig := f.sign(f.begin(), false)
			f.req.Rebind("browser-2")
			return f.finish(sig)
		}, http.StatusForbidden, login.CodeInvalidRequest, true},
		{"signature over other bytes", func(f *fixture) (int, map[string]any) { return f.finish(f.sign(f.begin()+"\n", false)) },
			http.StatusBadRequest, codeInvalidSignature, true},
		{"detached over other bytes", func(f *fixture) (int, map[string]any) {
			return f.finish(f.sign(strings.Replace(f.begin(), "nonce: ", "nonce: x", 1), true))
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"an earlier statement of this login", func(f *fixture) (int, map[string]any) {
			first := f.begin()
			f.begin()
			return f.finish(f.sign(first, false))
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"a statement for another service", func(f *fixture) (int, map[string]any) {
			return f.finish(f.sign(f.other(f.begin(), func(s *statement.Statement) { s.ClientID = "rp2" }), false))
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"a statement for another login", func(f *fixture) (int, map[string]any) {
			return f.finish(f.sign(f.other(f.begin(), func(s *statement.Statement) { s.Request = strings.Repeat("C", 43) }), true))
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"an altered statement", func(f *fixture) (int, map[string]any) {
			return f.finish(f.sign(strings.Replace(f.begin(), "Service rp1", "Service rp1 (trusted)", 1), false))
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"a document", func(f *fixture) (int, map[string]any) { f.begin(); return f.finish(f.sign("Contract no. 5", false)) },
			http.StatusBadRequest, codeInvalidSignature, true},
		{"the provider's issuer changed", func(f *fixture) (int, map[string]any) {
			sig := f.sign(f.begin(), false)
			f.h.IssuerURL = "https://id2.example"
			return f.finish(sig)
		}, http.StatusBadRequest, codeInvalidSignature, true},
		{"malformed CMS", func(f *fixture) (int, map[string]any) { f.begin(); return f.finish("MIIBAgMEBQ==") },
			http.StatusBadRequest, codeInvalidSignature, true},
		{"not base64", func(f *fixture) (int, map[string]any) { f.begin(); return f.finish("%%%") },
			http.StatusBadRequest, codeInvalidSignature, true},
		{"unknown field", func(f *fixture) (int, map[string]any) {
			return f.postJSON(PathCertificate, map[string]string{"request": reqID, "signature": "x", "extra": "y"})
		}, http.StatusBadRequest, login.CodeInvalidRequest, false},
		{"trailing data", func(f *fixture) (int, map[string]any) {
			return f.post(PathCertificate, "application/json", `{"request":"x","signature":"MA=="}{}`)
		}, http.StatusBadRequest, login.CodeInvalidRequest, false},
		{"oversized body", func(f *fixture) (int, map[string]any) { return f.finish(strings.Repeat("A", maxFinishBody)) },
			http.StatusRequestEntityTooLarge, login.CodeInvalidRequest, false},
		{"the host refuses the certificate", func(f *fixture) (int, map[string]any) {
			f.h.Refuse = &login.Error{Status: http.StatusForbidden, Code: login.CodeRefused, Detail: "revoked"}
			return f.finish(f.sign(f.begin(), false))
		}, http.StatusForbidden, login.CodeRefused, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			st, out := tc.run(f)
			if st != tc.status || (tc.code != "" && out["error"] != tc.code) {
				t.Fatalf("got %d %v; want %d %s", st, out, tc.status, tc.code)
			}
			if failed := len(f.h.Failures()) > 0; failed != tc.failed {
				t.Fatalf("failures %v; want some: %v", f.h.Failures(), tc.failed)
			}
			if tc.code != "" {
				return
			}
			if out["redirect"] != f.h.Next {
				t.Fatalf("answer %v", out)
			}
			proofs := f.h.Proofs()
			if len(proofs) != 1 || proofs[0].Method != Name || !proofs[0].Leaf.Equal(f.cert) {
				t.Fatalf("proofs %+v", proofs)
			}
		})
	}
}

// TestChallengeText: the text is a login statement naming the issuer,
// the service, the page's origin and the request, valid for the
// challenge's lifetime, and changes every time.
func TestChallengeText(t *testing.T) {
	f := newFixture(t)
	a, b := f.begin(), f.begin()
	st, err := statement.Parse([]byte(a))
	if err != nil {
		t.Fatalf("%v\nto_sign:\n%s", err, a)
	}
	issued := f.now.UTC().Truncate(time.Second)
	want := statement.Statement{Issuer: "https://id.example", ClientID: "rp1", ClientName: "Service rp1", Origin: "https://id.example",
		Request: reqID, Nonce: st.Nonce, IssuedAt: issued, ExpiresAt: issued.Add(120 * time.Second)}
	if st != want {
		t.Fatalf("statement %+v\nwant %+v", st, want)
	}
	if a == b {
		t.Fatal("two challenges are the same")
	}
}

// TestNotThisStatement: the refusal of another statement says so in
// words.
func TestNotThisStatement(t *testing.T) {
	f := newFixture(t)
	first := f.begin()
	f.begin()
	_, out := f.finish(f.sign(first, false))
	if d, _ := out["error_description"].(string); !strings.Contains(d, "not this login's statement") {
		t.Fatalf("answer %v", out)
	}
}

// TestOffer: the page gets the agent, and the policy its origin.
func TestOffer(t *testing.T) {
	m := New(Config{AgentURL: "http://127.0.0.1:8765/"})
	var pg pages.LoginPage
	m.Offer(&pg, reqID)
	if pg.AgentURL != "http://127.0.0.1:8765/" {
		t.Fatalf("page %+v", pg)
	}
	if o := m.Origins(); len(o) != 1 || o[0] != "http://127.0.0.1:8765" {
		t.Fatalf("origins %v", o)
	}
	if o := New(Config{}).Origins(); o != nil {
		t.Fatalf("origins without an agent: %v", o)
	}
}

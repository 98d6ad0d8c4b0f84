package idp

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/idp/login/tlscert"
	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/httpjson"
)

// keyMethod is a login method written only against the seam, registered
// beside the CMS challenge and the TLS client certificate: it "proves" the
// certificate of the holder its step names. It shows that a method is a
// package of its own plus an entry in the list, touching no other method.
type keyMethod struct {
	name    string
	as      login.Assurance
	pattern string
	holders map[string]*holder // by PINFL

	mu      sync.Mutex
	offered []string // requests whose login page offered the method
	host    login.Host
}

func newKeyMethod(as login.Assurance, holders ...*holder) *keyMethod {
	m := &keyMethod{name: "key-test", as: as, pattern: "POST /login/key-test", holders: map[string]*holder{}}
	for _, h := range holders {
		m.holders[h.pinfl] = h
	}
	return m
}

func (m *keyMethod) Name() string               { return m.name }
func (m *keyMethod) Assurance() login.Assurance { return m.as }
func (m *keyMethod) Origins() []string          { return []string{"https://key.example"} }

func (m *keyMethod) Offer(_ *pages.LoginPage, request string) {
	m.mu.Lock()
	m.offered = append(m.offered, request)
	m.mu.Unlock()
}

func (m *keyMethod) Routes(h login.Host) []login.Route {
	m.host = h
	return []login.Route{{Pattern: m.pattern, Handler: func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var in struct {
			Request string `json:"request"`
			PINFL   string `json:"pinfl"`
		}
		if e := login.Decode(w, r, 1<<10, &in); e != nil {
			login.WriteError(w, e)
			return
		}
		req, e := h.Request(ctx, r, in.Request)
		if e == nil {
			hd := m.holders[in.PINFL]
			if hd == nil {
				hd = &holder{}
			}
			var next string
			if next, e = h.Complete(ctx, w, r, req, login.Proof{Method: m.name, Leaf: hd.cert}); e == nil {
				h.Count("ok")
				httpjson.Write(w, http.StatusOK, map[string]string{"redirect": next})
				return
			}
		}
		h.Fail(ctx, r, in.Request)
		login.WriteError(w, e)
	}}}
}

// TestLoginMethodSeam logs in through a method registered beside the two
// built-in ones, and through those two unchanged.
func TestLoginMethodSeam(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { loginMethodSeam(t, b) })
	}
}

func loginMethodSeam(t *testing.T, b backend) {
	var e *env
	var km *keyMethod
	citizenFor := func(pinfl string) *holder { return e.ca.person(t, pinfl, "Dilnoza", "Karimova") }
	e = newEnv(t, b, func(c *Config) {
		km = newKeyMethod(login.Assurance{MaxACR: ACRLow, AMR: []string{"kba"}})
		c.Methods = []login.Method{km}
	})
	e.client("rp1", nil)
	alice, bob := citizenFor("31204900012345"), citizenFor("31204900012346")
	km.holders[alice.pinfl], km.holders[bob.pinfl] = alice, bob
	keyLogin := func(br *http.Client, id, pinfl string) (int, map[string]any) {
		return postJSON(t, br, e.issuer+"/login/key-test", map[string]string{"request": id, "pinfl": pinfl})
	}
	tests := []struct {
		name    string
		extra   url.Values
		certs   bool // the browser presents alice's TLS certificate
		login   func(br *http.Client, id string) (int, string)
		status  int
		want    string   // the acr, or for a refusal the error code
		wantAMR []string // nil for a refusal
	}{
		{"cms challenge", nil, false, func(br *http.Client, id string) (int, string) {
			st, out := e.loginCMS(br, id, alice)
			return st, str(out["redirect"])
		}, http.StatusOK, ACRSubstantial, []string{"pop", "swk"}},
		{"tls certificate", nil, true, func(br *http.Client, id string) (int, string) {
			st, loc, _ := get(t, br, e.issuer+tlscert.Path+"?request="+id)
			return st, loc
		}, http.StatusFound, ACRSubstantial, []string{"pop", "swk"}},
		{"test method: its cap and amr", nil, false, func(br *http.Client, id string) (int, string) {
			st, out := keyLogin(br, id, bob.pinfl)
			return st, str(out["redirect"])
		}, http.StatusOK, ACRLow, []string{"pop", "swk", "kba"}},
		{"test method below the level asked", url.Values{"acr_values": {ACRSubstantial}}, false, func(br *http.Client, id string) (int, string) {
			st, out := keyLogin(br, id, bob.pinfl)
			return st, str(out["error"])
		}, http.StatusForbidden, login.CodeACRNotMet, nil},
		{"test method without a certificate", nil, false, func(br *http.Client, id string) (int, string) {
			st, out := keyLogin(br, id, "00000000000000")
			return st, str(out["error"])
		}, http.StatusBadRequest, login.CodeInvalidRequest, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := e.browser()
			if tc.certs {
				br = e.browser(alice.tlsCert())
			}
			pk := newPKCE()
			id := e.startLogin(br, e.authorizeURL("rp1", pk, tc.extra))
			if st, _, body := get(t, br, e.issuer+pathLogin+"?request="+id); st != http.StatusOK || !strings.Contains(string(body), tlscert.Path+"?request="+id) {
				t.Fatalf("login page: %d, or no TLS offer", st)
			}
			km.mu.Lock()
			offered := slices.Contains(km.offered, id)
			km.mu.Unlock()
			if !offered {
				t.Fatal("the login page did not ask the test method for its offer")
			}
			st, next := tc.login(br, id)
			if st != tc.status {
				t.Fatalf("login: %d %s; want %d", st, next, tc.status)
			}
			if tc.wantAMR == nil {
				if next != tc.want {
					t.Fatalf("refused with %q; want %q", next, tc.want)
				}
				return
			}
			_, tok := e.exchange("rp1", codeFrom(t, next), pk)
			idt := claims(t, str(tok["id_token"]))
			if idt["acr"] != tc.want || !sameStrings(idt["amr"], tc.wantAMR) {
				t.Fatalf("acr %v amr %v; want %s %v", idt["acr"], idt["amr"], tc.want, tc.wantAMR)
			}
		})
	}
	// The page's policy lets its scripts reach every method's origins.
	br := e.browser()
	id := e.startLogin(br, e.authorizeURL("rp1", newPKCE(), nil))
	resp, err := br.Get(e.issuer + pathLogin + "?request=" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "https://key.example") || !strings.Contains(csp, "http://127.0.0.1:8765") {
		t.Fatalf("CSP lacks a method's origin: %s", csp)
	}
}

func str(v any) string { s, _ := v.(string); return s }

func sameStrings(v any, want []string) bool {
	got, _ := v.([]any)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestLoginMethodList: the list refuses methods that would collide, and
// leaves out the TLS certificate unless it is enabled.
func TestLoginMethodList(t *testing.T) {
	dup := newKeyMethod(login.Assurance{})
	dup.name = "cms"
	taken := newKeyMethod(login.Assurance{})
	taken.pattern = "POST /login/challenge"
	noHandler := &nilStep{newKeyMethod(login.Assurance{})}
	for _, tc := range []struct {
		name    string
		methods []login.Method
		tls     bool
		ok      bool
	}{
		{"built-in only", nil, true, true},
		{"without TLS", nil, false, true},
		{"one more", []login.Method{newKeyMethod(login.Assurance{})}, true, true},
		{"a name taken", []login.Method{dup}, true, false},
		{"the same method twice", []login.Method{newKeyMethod(login.Assurance{}), newKeyMethod(login.Assurance{})}, true, false},
		{"a step taken", []login.Method{taken}, true, false},
		{"a step without a handler", []login.Method{noHandler}, true, false},
		{"a nil method", []login.Method{nil}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{}
			ms, err := p.bindMethods(loginMethods(Config{TLSLogin: tc.tls, Methods: tc.methods}))
			if (err == nil) != tc.ok {
				t.Fatalf("bind: %v; want ok=%v", err, tc.ok)
			}
			if err != nil {
				return
			}
			var names []string
			for _, bm := range ms {
				names = append(names, bm.m.Name())
			}
			if slices.Contains(names, tlscert.Name) != tc.tls || names[0] != "cms" {
				t.Fatalf("methods %v with TLS login %v", names, tc.tls)
			}
		})
	}
}

type nilStep struct{ *keyMethod }

func (m *nilStep) Routes(login.Host) []login.Route { return []login.Route{{Pattern: "GET /login/nil"}} }

// TestMethodHostState: a method's state is kept hashed and taken once,
// and may not use the provider's own key prefixes.
func TestMethodHostState(t *testing.T) {
	e := newEnv(t, backends(t)[0], func(c *Config) { c.Methods = []login.Method{newKeyMethod(login.Assurance{})} })
	var h login.Host
	for _, bm := range e.p.methods {
		if km, ok := bm.m.(*keyMethod); ok {
			h = km.host
		}
	}
	ctx := context.Background()
	for _, kind := range []string{"lr:", "sess:", "code:", "fail:x"} {
		if err := h.Put(ctx, kind, "s", 1, time.Minute); err == nil {
			t.Errorf("kind %q: a method wrote under the provider's prefix", kind)
		}
	}
	if err := h.Put(ctx, "kt:", "secret", map[string]int{"n": 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cache.Get(ctx, "kt:secret"); err == nil {
		t.Fatal("the secret is a cache key in the clear")
	}
	var v map[string]int
	for i, want := range []bool{true, false} {
		found, err := h.Take(ctx, "kt:", "secret", &v)
		if err != nil || found != want || (found && v["n"] != 1) {
			t.Fatalf("take %d: %v %v %v", i, found, v, err)
		}
	}
}

package kms

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want KeyURI
	}{
		{"file:keys/ca.key", KeyURI{Scheme: "file", Path: "keys/ca.key"}},
		{"file:ca.key", KeyURI{Scheme: "file", Path: "ca.key"}},
		{"file:../ca.key", KeyURI{Scheme: "file", Path: "../ca.key"}},
		{"file:/etc/yagona/ca.key", KeyURI{Scheme: "file", Path: "/etc/yagona/ca.key"}},
		{"file:///etc/yagona/ca.key", KeyURI{Scheme: "file", Path: "/etc/yagona/ca.key"}},
		{"file://localhost/etc/ca.key", KeyURI{Scheme: "file", Path: "/etc/ca.key"}},
		{"FILE:ca.key", KeyURI{Scheme: "file", Path: "ca.key"}},
		{"file:my%20keys/ca%3F.key", KeyURI{Scheme: "file", Path: "my keys/ca?.key"}},
		{"file:keys/ca.key?", KeyURI{Scheme: "file", Path: "keys/ca.key"}},
		{"file:keys/ca.key?passphrase-env=YAGONA_CA_PASSPHRASE", KeyURI{Scheme: "file", Path: "keys/ca.key", PassphraseEnv: "YAGONA_CA_PASSPHRASE"}},
		{"file:keys/ca.key?passphrase-file=/run/secrets/ca", KeyURI{Scheme: "file", Path: "keys/ca.key", PassphraseFile: "/run/secrets/ca"}},
		{"file:keys/ca.key?passphrase-file=secrets%2Fca+pass", KeyURI{Scheme: "file", Path: "keys/ca.key", PassphraseFile: "secrets/ca pass"}},
		{"file:/k?passphrase-env=_X1", KeyURI{Scheme: "file", Path: "/k", PassphraseEnv: "_X1"}},
	}
	for _, tc := range tests {
		got, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURI(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		again, err := ParseURI(got.String())
		if err != nil || again != got {
			t.Errorf("ParseURI(%q.String() = %q) = %+v, %v; want %+v", tc.in, got.String(), again, err, got)
		}
	}
}

func TestParsePKCS11URI(t *testing.T) {
	t.Parallel()
	const mod = "?module-path=/usr/lib/softhsm/libsofthsm2.so"
	p := func(u PKCS11URI) KeyURI {
		u.ModulePath = "/usr/lib/softhsm/libsofthsm2.so"
		return KeyURI{Scheme: "pkcs11", PKCS11: u}
	}
	tests := []struct {
		in   string
		want KeyURI
	}{
		{"pkcs11:token=yagona;object=issuing-ca" + mod + "&pin-source=file:/run/pin",
			p(PKCS11URI{Token: "yagona", Object: "issuing-ca", PINFile: "/run/pin"})},
		{"PKCS11:token=yagona;object=issuing-ca" + mod + "&pin-source=file:///run/pin",
			p(PKCS11URI{Token: "yagona", Object: "issuing-ca", PINFile: "/run/pin"})},
		{"pkcs11:token=yagona;object=ca" + mod + "&pin-source=secrets/pin",
			p(PKCS11URI{Token: "yagona", Object: "ca", PINFile: "secrets/pin"})},
		{"pkcs11:serial=8f1a;id=%01%FF;type=private" + mod + "&pin-source=env:HSM_PIN",
			p(PKCS11URI{Serial: "8f1a", ID: "\x01\xff", PINEnv: "HSM_PIN"})},
		{"pkcs11:token=My%20Token;object=a+b%3Bc" + mod + "&pin-source=file:/p",
			p(PKCS11URI{Token: "My Token", Object: "a+b;c", PINFile: "/p"})},
		{"pkcs11:token=t" + mod + "&pin-source=/p",
			p(PKCS11URI{Token: "t", PINFile: "/p"})},
	}
	for _, tc := range tests {
		got, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURI(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		again, err := ParseURI(got.String())
		if err != nil || again != got {
			t.Errorf("ParseURI(%q.String() = %q) = %+v, %v; want %+v", tc.in, got.String(), again, err, got)
		}
	}
	u, _ := ParseURI("pkcs11:token=t;object=ca" + mod + "&pin-source=/p")
	if id := u.PKCS11.KeyID(); len(id) != 8 {
		t.Errorf("derived KeyID = %x, want 8 bytes", id)
	}
	w := u.PKCS11.WithObject("oidc-abc")
	if w.Object != "oidc-abc" || w.ID != "" || w.Token != "t" || w.PINFile != "/p" {
		t.Errorf("WithObject = %+v", w)
	}
}

func TestParseURIString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"file:keys/ca.key":                           "file:keys/ca.key",
		"file:/etc/ca.key":                           "file:///etc/ca.key",
		"file:my%20keys/ca%3F.key":                   "file:my%20keys/ca%3F.key",
		"file:k?passphrase-file=/run/secrets/ca+key": "file:k?passphrase-file=%2Frun%2Fsecrets%2Fca+key",
		"file:k?passphrase-env=PASS":                 "file:k?passphrase-env=PASS",
	} {
		u, err := ParseURI(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.String(); got != want {
			t.Errorf("ParseURI(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func TestParseURIErrors(t *testing.T) {
	t.Parallel()
	const secret = "hunter2"
	tests := []struct {
		in      string
		wantErr string // substring
		unsupp  bool   // wraps ErrUnsupported
	}{
		{"", "no scheme", false},
		{"keys/ca.key", "no scheme", false},
		{"/etc/ca.key", "no scheme", false},
		{":ca.key", "no scheme", false},
		{"1file:ca.key", "no scheme", false},
		{"file:", "empty path", false},
		{"file:?passphrase-env=X", "empty path", false},
		{"file://", "empty path", false},
		{"file://localhost", "empty path", false},
		{"file://keys/ca.key", "names a host", false},
		{"file://example.com/etc/ca.key", "names a host", false},
		{"file:ca.key#frag", "fragment", false},
		{"file:ca%zz.key", "percent-escape", false},
		{"file:ca%00.key", "NUL", false},
		{"file:ca.key?passphrase-env=X&passphrase-file=/p", "two passphrase sources", false},
		{"file:ca.key?passphrase-env=X&passphrase-env=Y", "more than once", false},
		{"file:ca.key?passphrase-env=", "not a valid environment variable", false},
		{"file:ca.key?passphrase-env=1X", "not a valid environment variable", false},
		{"file:ca.key?passphrase-env=A-B", "not a valid environment variable", false},
		{"file:ca.key?passphrase-file=", "not a valid path", false},
		{"file:ca.key?passphrase-file=a%00b", "not a valid path", false},
		{"file:ca.key?passphrase=" + secret, "unknown parameter", false},
		{"file:ca.key?pin-value=" + secret, "unknown parameter", false},
		{"file:ca.key?a=" + secret + ";b", "malformed", false},
		{"file:ca.key?a=%zz" + secret, "malformed", false},
		{"pkcs11:token=yagona;object=ca?module-path=/m.so&pin-value=" + secret, "pin-value", false},
		{"pkcs11:token=yagona;pin-value=" + secret + "?module-path=/m.so", "query", false},
		{"pkcs11:object=ca?module-path=/m.so&pin-source=/p", "no token", false},
		{"pkcs11:token=a;serial=b;object=ca?module-path=/m.so&pin-source=/p", "token twice", false},
		{"pkcs11:token=a;object=ca?pin-source=/p", "no module", false},
		{"pkcs11:token=a;object=ca?module-path=/m.so", "no PIN", false},
		{"pkcs11:token=a;object=ca;object=b?module-path=/m.so&pin-source=/p", "more than once", false},
		{"pkcs11:token=a;object=ca%zz?module-path=/m.so&pin-source=/p", "percent-escape", false},
		{"pkcs11:token=a;object=c%00a?module-path=/m.so&pin-source=/p", "NUL", false},
		{"pkcs11:token=a;type=public?module-path=/m.so&pin-source=/p", "private", false},
		{"pkcs11:token=a;object=" + secret + ";x-secret=" + secret + "?module-path=/m.so&pin-source=/p", "unknown path attribute", false},
		{"pkcs11:token=a?module-path=/m.so&pin-source=/p&x=" + secret, "unknown query attribute", false},
		{"pkcs11:token=a?module-path=/m.so&pin-source=env:1X", "environment variable", false},
		{"pkcs11:token=a?module-path=/m.so&pin-source=https://x/" + secret, "https", true},
		{"pkcs11:token=a?module-path=/m.so&pin-source=file://host/p", "host", false},
		{"pkcs11:token=a?module-path=/m.so&pin-source=file:", "empty path", false},
		{"pkcs11:token=a;" + secret + "?module-path=/m.so&pin-source=/p", "name=value", false},
		{"pkcs11:token=a#x?module-path=/m.so&pin-source=/p", "fragment", false},
		{"awskms:key/1234", "awskms", true},
		{"https://kms.example/keys/1", "https", true},
	}
	for _, tc := range tests {
		_, err := ParseURI(tc.in)
		if err == nil {
			t.Errorf("ParseURI(%q) succeeded", tc.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.wantErr) {
			t.Errorf("ParseURI(%q) = %q, want it to mention %q", tc.in, msg, tc.wantErr)
		}
		if !strings.HasPrefix(msg, "kms: ") {
			t.Errorf("ParseURI(%q) = %q lacks the package prefix", tc.in, msg)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("ParseURI(%q) error reveals a query value: %q", tc.in, msg)
		}
		if got := errors.Is(err, ErrUnsupported); got != tc.unsupp {
			t.Errorf("ParseURI(%q): errors.Is(err, ErrUnsupported) = %v, want %v", tc.in, got, tc.unsupp)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	base := filepath.Join(string(os.PathSeparator), "srv", "yagona")
	for _, tc := range []struct {
		opts Options
		in   string
		want string
	}{
		{Options{BaseDir: base}, "keys/ca.key", filepath.Join(base, "keys", "ca.key")},
		{Options{BaseDir: base}, "/etc/ca.key", "/etc/ca.key"},
		{Options{BaseDir: base}, "../ca.key", filepath.Join(filepath.Dir(base), "ca.key")},
		{Options{}, "keys/./ca.key", filepath.Join("keys", "ca.key")},
	} {
		if got := tc.opts.resolve(tc.in); got != tc.want {
			t.Errorf("resolve(%q) with BaseDir %q = %q, want %q", tc.in, tc.opts.BaseDir, got, tc.want)
		}
	}
}

// FuzzParseURI checks that ParseURI never panics and that String is its
// inverse on everything it accepts.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"file:keys/ca.key",
		"file:///etc/yagona/ca.key?passphrase-env=YAGONA_CA",
		"file:/k?passphrase-file=/run/secrets/ca",
		"file://localhost/a%20b",
		"pkcs11:token=yagona;object=issuing-ca?module-path=/usr/lib/p11.so&pin-source=file:/run/pin",
		"pkcs11:serial=1;id=%00%01?module-path=m&pin-source=env:PIN",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kms: ") {
				t.Fatalf("ParseURI(%q) error %q lacks the prefix", s, err)
			}
			return
		}
		if u.Scheme == "pkcs11" {
			p := u.PKCS11
			if u.Path != "" || p.ModulePath == "" || (p.Token == "") == (p.Serial == "") || (p.PINFile == "") == (p.PINEnv == "") {
				t.Fatalf("ParseURI(%q) = %+v, which violates its invariants", s, u)
			}
		} else if u.Scheme != "file" || u.Path == "" || (u.PassphraseEnv != "" && u.PassphraseFile != "") || u.PKCS11 != (PKCS11URI{}) {
			t.Fatalf("ParseURI(%q) = %+v, which violates its invariants", s, u)
		}
		again, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("ParseURI(%q) = %+v, but its String %q does not parse: %v", s, u, u.String(), err)
		}
		if again != u {
			t.Fatalf("ParseURI(%q) = %+v, but ParseURI(%q) = %+v", s, u, u.String(), again)
		}
	})
}

// fuzzMaxIterations keeps FuzzDecryptPEM fast: seeds use 1,000 PBKDF2
// iterations, and mutated counts above this are refused before deriving.
const fuzzMaxIterations = 4096

// FuzzDecryptPEM checks that decryption never panics on hostile input.
// Seeds in testdata/fuzz/FuzzDecryptPEM are OpenSSL-made keys encrypted
// with 1,000 iterations under the passphrase "fuzz".
func FuzzDecryptPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("fuzz"))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		key, err := decryptPEM(data, pass, fuzzMaxIterations)
		if err != nil {
			return
		}
		if _, err := algorithmOf(key.Public()); err != nil {
			t.Fatalf("decryptPEM returned an unsupported key: %v", err)
		}
	})
}

// TestFuzzDecryptPEMSeeds makes sure the OpenSSL seeds exercise the whole
// decryption path, not just the parser: all but the PBES1 one decrypt.
func TestFuzzDecryptPEMSeeds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzDecryptPEM")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 3 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a two-argument corpus file", e.Name())
		}
		var args [2][]byte
		for i, l := range lines[1:] {
			q, ok := strings.CutPrefix(l, "[]byte(")
			q, ok2 := strings.CutSuffix(q, ")")
			s, err := strconv.Unquote(q)
			if !ok || !ok2 || err != nil {
				t.Fatalf("%s: line %d is not a []byte literal", e.Name(), i+2)
			}
			args[i] = []byte(s)
		}
		_, err = decryptPEM(args[0], args[1], fuzzMaxIterations)
		if wantErr := strings.Contains(e.Name(), "pbes1"); (err != nil) != wantErr {
			t.Errorf("%s: decryptPEM error = %v, want error: %v", e.Name(), err, wantErr)
		}
	}
}

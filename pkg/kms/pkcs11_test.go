//go:build cgo

package kms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/yagona/yagona/pkg/kms/softhsmtest"
)

// newTokens returns a Tokens closed when the test ends (before the token
// directory is removed).
func newTokens(t *testing.T) *Tokens {
	t.Helper()
	ts := &Tokens{}
	t.Cleanup(func() {
		if err := ts.Close(); err != nil {
			t.Error(err)
		}
	})
	return ts
}

func TestPKCS11CreateLoadSign(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	for _, alg := range []Algorithm{ECDSAP256, ECDSAP384, RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			uri := tk.URI("key-" + string(alg))
			opts := Options{Tokens: newTokens(t)}
			if ok, err := Exists(uri, opts); err != nil || ok {
				t.Fatalf("Exists before Create = %v, %v; want false, nil", ok, err)
			}
			key, err := Create(uri, alg, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := AlgorithmOf(key.Public()); err != nil || got != alg {
				t.Fatalf("AlgorithmOf = %s, %v; want %s", got, err, alg)
			}
			checkSigns(t, key)
			if ok, err := Exists(uri, opts); err != nil || !ok {
				t.Fatalf("Exists after Create = %v, %v; want true, nil", ok, err)
			}
			if _, err := Create(uri, alg, opts); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("second Create = %v, want fs.ErrExist", err)
			}
			// A fresh Tokens is a new module context and login: the key
			// comes from the token, not from memory.
			again, err := Load(uri, Options{Tokens: newTokens(t)})
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(key.Public(), again.Public()) {
				t.Fatal("Load returned another key than Create made")
			}
			checkSigns(t, again)
		})
	}
}

func TestPKCS11Ed25519Unsupported(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	_, err := Create(tk.URI("log"), Ed25519, Options{Tokens: newTokens(t)})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "file") {
		t.Fatalf("Create Ed25519 = %v, want ErrUnsupported advising a file key", err)
	}
}

func TestPKCS11WrongPIN(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	// PKCS#11 login state belongs to the process: while any context is
	// logged in, a new one is too, whatever its PIN. Close this one first.
	ts := &Tokens{}
	if _, err := Create(tk.URI("k"), ECDSAP256, Options{Tokens: ts}); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	const wrong = "0000-wrong-pin"
	t.Setenv("YAGONA_TEST_WRONG_PIN", wrong)
	for name, fn := range map[string]func(string, Options) error{
		"Load":   func(u string, o Options) error { _, err := Load(u, o); return err },
		"Exists": func(u string, o Options) error { _, err := Exists(u, o); return err },
		"Create": func(u string, o Options) error { _, err := Create(u, ECDSAP256, o); return err },
	} {
		uri := tk.BaseURI("k") + "&pin-source=env:YAGONA_TEST_WRONG_PIN"
		ts := &Tokens{}
		err := fn(uri, Options{Tokens: ts})
		_ = ts.Close()
		if !errors.Is(err, ErrWrongPIN) {
			t.Errorf("%s with a wrong PIN = %v, want ErrWrongPIN", name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, tk.PIN) || !strings.Contains(msg, "yagona-test") {
			t.Errorf("%s error %q reveals a PIN or does not name the token", name, msg)
		}
	}
}

func TestPKCS11Missing(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	opts := Options{Tokens: newTokens(t)}
	if _, err := Load(tk.URI("absent"), opts); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing object = %v, want fs.ErrNotExist", err)
	}
	if ok, err := Exists(tk.URI("absent"), opts); ok || err != nil {
		t.Errorf("Exists of a missing object = %v, %v", ok, err)
	}
	other := strings.Replace(tk.URI("k"), "token=yagona-test", "token=no-such-token", 1)
	if _, err := Load(other, opts); err == nil || !strings.Contains(err.Error(), "no-such-token") {
		t.Errorf("Load on a missing token = %v, want an error naming it", err)
	}
	if _, err := Load(tk.URI("k"), Options{}); err == nil || !strings.Contains(err.Error(), "Tokens") {
		t.Errorf("Load without Options.Tokens = %v", err)
	}
	noKey := tk.BaseURI("") + "&pin-source=file:" + tk.PINFile
	if _, err := Load(noKey, opts); err == nil || !strings.Contains(err.Error(), "names no key") {
		t.Errorf("Load of a token URI = %v", err)
	}
	t.Setenv("YAGONA_TEST_EMPTY", "")
	if _, err := Load(tk.BaseURI("k")+"&pin-source=env:YAGONA_TEST_EMPTY", Options{Tokens: newTokens(t)}); err == nil || !strings.Contains(err.Error(), "YAGONA_TEST_EMPTY") {
		t.Errorf("Load with an empty PIN variable = %v", err)
	}
}

// TestPKCS11SharedToken checks that keys on one token share one open
// context, and that a label or an id already taken refuses Create.
func TestPKCS11SharedToken(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	ts := newTokens(t)
	opts := Options{Tokens: ts}
	if _, err := Create(tk.URI("a"), ECDSAP256, opts); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YAGONA_TEST_PIN", tk.PIN)
	if _, err := Create(tk.BaseURI("b")+"&pin-source=env:YAGONA_TEST_PIN", ECDSAP256, opts); err != nil {
		t.Fatal(err)
	}
	if n := len(ts.open); n != 1 {
		t.Fatalf("two keys on one token opened %d contexts", n)
	}
	info, err := ts.Info(tk.URI("a"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if info.Label != "yagona-test" || info.Serial == "" || info.Module != tk.Module {
		t.Fatalf("Info = %+v", info)
	}
	// The id "a" gets (derived from its label) is taken.
	u, _ := ParseURI(tk.URI("a"))
	clash := tk.BaseURI("c") + "&pin-source=file:" + tk.PINFile
	clash = strings.Replace(clash, ";object=c", ";id="+escapeAttr(string(u.PKCS11.KeyID()), true)+";object=c", 1)
	if _, err := Create(clash, ECDSAP256, opts); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create with a taken id = %v, want fs.ErrExist", err)
	}
	// Found by id alone.
	byID := strings.Replace(clash, ";object=c", "", 1)
	if ok, err := Exists(byID, opts); !ok || err != nil {
		t.Fatalf("Exists by id = %v, %v", ok, err)
	}
}

// TestPKCS11ConcurrentSign signs from many goroutines at once, as the OCSP
// responder does.
func TestPKCS11ConcurrentSign(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	opts := Options{Tokens: newTokens(t)}
	key, err := Create(tk.URI("ocsp"), ECDSAP256, opts)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(*ecdsa.PublicKey)
	const goroutines, each = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				d := sha256.Sum256([]byte{byte(g), byte(i)})
				sig, err := key.Sign(rand.Reader, d[:], crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				if !ecdsa.VerifyASN1(pub, d[:], sig) {
					errs <- errors.New("signature does not verify")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestPKCS11OtherProcess creates a key in a child process and loads it
// here.
func TestPKCS11OtherProcess(t *testing.T) {
	tk := softhsmtest.New(t, "yagona-test")
	uri := tk.URI("made-elsewhere")
	cmd := exec.Command(os.Args[0], "-test.run=^TestPKCS11HelperProcess$")
	cmd.Env = append(os.Environ(), "YAGONA_KMS_HELPER_URI="+uri)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.Bytes())
	}
	block, _ := pem.Decode(out)
	if block == nil {
		t.Fatalf("helper printed no public key:\n%s", out)
	}
	want, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := Load(uri, Options{Tokens: newTokens(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(want, key.Public()) {
		t.Fatal("loaded another key than the child process created")
	}
	checkSigns(t, key)
}

// TestPKCS11HelperProcess is TestPKCS11OtherProcess's child: it creates a
// P-384 key and prints its public key.
func TestPKCS11HelperProcess(t *testing.T) {
	uri := os.Getenv("YAGONA_KMS_HELPER_URI")
	if uri == "" {
		t.Skip("run by TestPKCS11OtherProcess")
	}
	ts := &Tokens{}
	defer ts.Close()
	key, err := Create(uri, ECDSAP384, Options{Tokens: ts})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = pem.Encode(os.Stdout, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

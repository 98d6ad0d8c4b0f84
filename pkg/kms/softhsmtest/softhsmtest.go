// Package softhsmtest makes throwaway SoftHSM2 tokens for tests of PKCS#11
// keys. Tests skip unless YAGONA_TEST_PKCS11_MODULE names the SoftHSM2
// module (/usr/lib/softhsm/libsofthsm2.so on Debian); softhsm2-util must
// be on the PATH. Only tests import this package.
package softhsmtest

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ModuleEnv names the environment variable holding the module path.
const ModuleEnv = "YAGONA_TEST_PKCS11_MODULE"

// Token is an initialised SoftHSM2 token in a test's temporary directory.
type Token struct {
	Module  string // the PKCS#11 module
	Label   string // the token label
	PIN     string // the user PIN
	PINFile string // a file holding PIN
	Dir     string // the token directory
}

// New initialises a token labelled label in a fresh token directory and
// points SOFTHSM2_CONF at it for the rest of the test (so the test must not
// be parallel). SoftHSM reads its configuration when the module is
// initialised: close every PKCS#11 context of an earlier test first.
func New(t testing.TB, label string) *Token {
	t.Helper()
	module := os.Getenv(ModuleEnv)
	if module == "" {
		t.Skip(ModuleEnv + " is not set; set it to the SoftHSM2 module (/usr/lib/softhsm/libsofthsm2.so) to run PKCS#11 tests")
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		t.Skip("softhsm2-util is not installed (apt-get install softhsm2)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	tk := &Token{Module: module, Label: label, PIN: "1234-test-pin", PINFile: filepath.Join(dir, "pin"), Dir: tokens}
	if err := os.WriteFile(tk.PINFile, []byte(tk.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label,
		"--so-pin", "5678-test-so-pin", "--pin", tk.PIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return tk
}

// URI returns the pkcs11 key URI of object on the token, with the PIN
// from PINFile.
func (tk *Token) URI(object string) string {
	return tk.BaseURI(object) + "&pin-source=file:" + tk.PINFile
}

// BaseURI returns the URI of object on the token without a PIN source:
// pkcs11:token=LABEL;object=OBJECT?module-path=MODULE. An empty object
// names the token alone.
func (tk *Token) BaseURI(object string) string {
	s := "pkcs11:token=" + url.PathEscape(tk.Label)
	if object != "" {
		s += ";object=" + url.PathEscape(object)
	}
	return s + "?module-path=" + tk.Module
}

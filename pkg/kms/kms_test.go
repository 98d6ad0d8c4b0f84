package kms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testPass = []byte("correct horse battery staple")

// TestMain lowers the PBKDF2 iteration count new keys get, from 600,000
// (~0.15 s per encryption or decryption, ten times that under -race) to
// OpenSSL's old default. TestEncryptPEMFormat covers the real count.
func TestMain(m *testing.M) {
	if encryptIterations != 600_000 {
		panic("kms: EncryptPEM must default to 600,000 PBKDF2 iterations")
	}
	encryptIterations = 2048
	os.Exit(m.Run())
}

// opensslEnv is the environment variable tests hand passphrases to OpenSSL
// through (-passin env:...), so they stay off the command line.
const opensslEnv = "YAGONA_KMS_TEST_OPENSSL_PASS"

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
}

// openssl runs openssl with args, handing it pass through opensslEnv.
func openssl(t *testing.T, pass []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Env = append(os.Environ(), opensslEnv+"="+string(pass))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func samePublicKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func checkSigns(t *testing.T, key crypto.Signer) {
	t.Helper()
	msg := []byte("yagona")
	digest := sha256.Sum256(msg)
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Fatalf("ECDSA signature does not verify (err %v)", err)
		}
	case *rsa.PublicKey:
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			t.Fatalf("RSA signature does not verify (err %v)", err)
		}
	case ed25519.PublicKey:
		sig, err := key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(pub, msg, sig) {
			t.Fatalf("Ed25519 signature does not verify (err %v)", err)
		}
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
}

func TestCreateLoadEveryAlgorithm(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	for _, alg := range Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := Options{BaseDir: dir, Passphrase: testPass}
			uri := "file:keys/sub/" + string(alg) + ".key"
			created, err := Create(uri, alg, opts)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, err := AlgorithmOf(created.Public()); err != nil || got != alg {
				t.Fatalf("AlgorithmOf(created) = %q, %v; want %q", got, err, alg)
			}
			loaded, err := Load(uri, opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !samePublicKey(created.Public(), loaded.Public()) {
				t.Fatal("loaded key differs from created key")
			}
			checkSigns(t, loaded)

			path := filepath.Join(dir, "keys", "sub", string(alg)+".key")
			for p, want := range map[string]fs.FileMode{
				path:                             0o600,
				filepath.Dir(path):               0o700 | fs.ModeDir,
				filepath.Dir(filepath.Dir(path)): 0o700 | fs.ModeDir,
			} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != want {
					t.Errorf("mode of %s = %v, want %v", p, fi.Mode(), want)
				}
			}

			// OpenSSL reads the file and finds the same public key.
			out := openssl(t, testPass, "pkey", "-in", path, "-passin", "env:"+opensslEnv, "-pubout")
			block, _ := pem.Decode(out)
			if block == nil {
				t.Fatalf("openssl pkey -pubout printed no PEM: %q", out)
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(created.Public(), pub) {
				t.Fatal("OpenSSL decrypted a different public key")
			}
		})
	}
}

func TestEncryptPEMFormat(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	key, err := GenerateKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	out, err := encryptPEM(key, testPass, defaultEncryptIterations)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(out)
	if block == nil || block.Type != "ENCRYPTED PRIVATE KEY" || len(block.Headers) != 0 || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("EncryptPEM output is not a single ENCRYPTED PRIVATE KEY block:\n%s", out)
	}
	p, err := parsePBES2(block.Bytes, maxIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !p.prf.Equal(oidHMACWithSHA256) || !p.cipher.Equal(oidAES256CBC) || p.iterations != 600_000 || len(p.salt) != 16 {
		t.Fatalf("PBES2 parameters = prf %v, cipher %v, %d iterations, %d-byte salt; want HMAC-SHA256, AES-256-CBC, 600000, 16",
			p.prf, p.cipher, p.iterations, len(p.salt))
	}
	// Canonical DER: re-encoding the parse gives the same bytes.
	again, err := p.marshal()
	if err != nil || !bytes.Equal(again, block.Bytes) {
		t.Fatalf("re-encoded parameters differ (err %v)", err)
	}
	if bytes.Contains(out, testPass) {
		t.Fatal("output contains the passphrase")
	}
	// Both we and OpenSSL decrypt it.
	got, err := DecryptPEM(out, testPass)
	if err != nil || !samePublicKey(got.Public(), key.Public()) {
		t.Fatalf("DecryptPEM of the 600,000-iteration key failed: %v", err)
	}
	openssl(t, testPass, "pkey", "-in", writeTemp(t, out), "-passin", "env:"+opensslEnv, "-noout")
	// Salt and IV are fresh each time.
	out2, err := EncryptPEM(key, testPass)
	if err != nil {
		t.Fatal(err)
	}
	p2 := mustParse(t, mustDecodePEM(t, out2))
	if bytes.Equal(p.salt, p2.salt) || bytes.Equal(p.iv, p2.iv) {
		t.Fatal("two encryptions share a salt or IV")
	}
}

func mustDecodePEM(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func TestLoadOpenSSLKeys(t *testing.T) {
	t.Parallel()
	requireOpenSSL(t)
	pass := []byte("openssl pass")
	passOut := "env:" + opensslEnv
	tests := []struct {
		name    string
		gen     func(t *testing.T, path string)
		want    Algorithm
		wantErr error // nil: loads
	}{
		{
			name: "genpkey P-256 aes-256-cbc",
			gen: func(t *testing.T, path string) {
				openssl(t, pass, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", passOut, "-out", path)
			},
			want: ECDSAP256,
		},
		{
			name: "genpkey Ed25519 aes-128-cbc",
			gen: func(t *testing.T, path string) {
				openssl(t, pass, "genpkey", "-algorithm", "ED25519", "-aes-128-cbc", "-pass", passOut, "-out", path)
			},
			want: Ed25519,
		},
		{
			name: "pkcs8 RSA-2048 aes-192-cbc hmacWithSHA1",
			gen: func(t *testing.T, path string) {
				plain := openssl(t, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
				topk8(t, pass, plain, path, "-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA1")
			},
			want: RSA2048,
		},
		{
			name: "pkcs8 P-384 aes-256-cbc 100000 iterations",
			gen: func(t *testing.T, path string) {
				plain := openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
				topk8(t, pass, plain, path, "-v2", "aes-256-cbc", "-iter", "100000")
			},
			want: ECDSAP384,
		},
		{
			name: "pkcs8 PBES1 3DES",
			gen: func(t *testing.T, path string) {
				plain := openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
				topk8(t, pass, plain, path, "-v1", "PBE-SHA1-3DES")
			},
			wantErr: ErrUnsupported,
		},
		{
			name: "pkcs8 PBES2 des3",
			gen: func(t *testing.T, path string) {
				plain := openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
				topk8(t, pass, plain, path, "-v2", "des3")
			},
			wantErr: ErrUnsupported,
		},
		{
			name: "pkcs8 PBES2 hmacWithSHA512",
			gen: func(t *testing.T, path string) {
				plain := openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
				topk8(t, pass, plain, path, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512")
			},
			wantErr: ErrUnsupported,
		},
		{
			name: "traditional encrypted PEM",
			gen: func(t *testing.T, path string) {
				plain := writeTemp(t, openssl(t, nil, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"))
				openssl(t, pass, "pkey", "-in", plain, "-traditional", "-aes256", "-passout", passOut, "-out", path)
			},
			wantErr: ErrUnsupported,
		},
		{
			name: "P-521",
			gen: func(t *testing.T, path string) {
				openssl(t, pass, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-aes-256-cbc", "-pass", passOut, "-out", path)
			},
			wantErr: ErrUnsupported,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "key.pem")
			tc.gen(t, path)
			key, err := Load("file:"+path, Options{Passphrase: pass})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Load = %v, want an error wrapping %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got, _ := AlgorithmOf(key.Public()); got != tc.want {
				t.Fatalf("AlgorithmOf = %q, want %q", got, tc.want)
			}
			checkSigns(t, key)
			// The public key matches OpenSSL's view of the file.
			out := openssl(t, pass, "pkey", "-in", path, "-passin", passOut, "-pubout")
			block, _ := pem.Decode(out)
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(pub, key.Public()) {
				t.Fatal("Load and OpenSSL disagree on the public key")
			}
			if _, err := Load("file:"+path, Options{Passphrase: []byte("not it")}); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Load with a wrong passphrase = %v, want ErrWrongPassphrase", err)
			}
		})
	}
}

func topk8(t *testing.T, pass, plain []byte, out string, args ...string) {
	t.Helper()
	in := writeTemp(t, plain)
	openssl(t, pass, append([]string{"pkcs8", "-topk8", "-in", in, "-passout", "env:" + opensslEnv, "-out", out}, args...)...)
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plain.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadUnencryptedRefused(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(ECDSAP256)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := writeTemp(t, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	_, err := Load("file:"+path, Options{Passphrase: testPass})
	if err == nil || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("Load of an unencrypted key = %v, want a not-encrypted error", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	uri := "file:ca.key"
	if _, err := Create(uri, ECDSAP256, Options{BaseDir: dir, Passphrase: testPass}); err != nil {
		t.Fatal(err)
	}
	wrong := []byte("Tr0ub4dor&3")
	_, err := Load(uri, Options{BaseDir: dir, Passphrase: wrong})
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Load = %v, want ErrWrongPassphrase", err)
	}
	want := "kms: decrypt key " + filepath.Join(dir, "ca.key") + ": wrong passphrase or corrupt file"
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
	for _, p := range [][]byte{testPass, wrong} {
		if strings.Contains(err.Error(), string(p)) {
			t.Fatal("error reveals a passphrase")
		}
	}
}

func TestCorruptFile(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(Ed25519)
	good, err := EncryptPEM(key, testPass)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)
	tests := map[string][]byte{
		"empty":         nil,
		"garbage":       []byte("not a key"),
		"truncated PEM": good[:len(good)/2],
		// CBC: a flip in the next-to-last ciphertext block flips the same
		// byte of the last plaintext block, here the padding length, so the
		// failure is certain (a flip in the last block garbles it at
		// random and, about once in 256 runs, still leaves valid padding).
		"flipped padding": pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: flip(block.Bytes, len(block.Bytes)-17)}),
		"flipped salt":    pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: flip(block.Bytes, bytes.Index(block.Bytes, mustParse(t, block.Bytes).salt))}),
		"two keys":        append(append([]byte{}, good...), good...),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecryptPEM(data, testPass); err == nil {
				t.Fatal("DecryptPEM succeeded")
			} else if !strings.HasPrefix(err.Error(), "kms: decrypt key: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func mustParse(t *testing.T, der []byte) *pbes2 {
	t.Helper()
	p, err := parsePBES2(der, maxIterations)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecryptPEMSkipsOtherBlocks(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(ECDSAP256)
	enc, err := EncryptPEM(key, testPass)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})
	data := append(append(append([]byte("leading text\n"), cert...), enc...), cert...)
	got, err := DecryptPEM(data, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(got.Public(), key.Public()) {
		t.Fatal("wrong key decrypted")
	}
}

func TestIterationBound(t *testing.T) {
	t.Parallel()
	p := &pbes2{salt: make([]byte, 16), iterations: maxIterations + 1, prf: oidHMACWithSHA256, cipher: oidAES256CBC, iv: make([]byte, 16), data: make([]byte, 64)}
	der, err := p.marshal()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = DecryptPEM(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), testPass)
	if err == nil || !strings.Contains(err.Error(), "iteration count") {
		t.Fatalf("DecryptPEM = %v, want an iteration-count error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing took %v; the bound must be checked before deriving", d)
	}
}

func TestEmptyPassphrase(t *testing.T) {
	t.Parallel()
	key, _ := GenerateKey(ECDSAP256)
	if _, err := EncryptPEM(key, nil); err == nil {
		t.Error("EncryptPEM with an empty passphrase succeeded")
	}
	enc, err := EncryptPEM(key, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecryptPEM(enc, []byte{}); err == nil {
		t.Error("DecryptPEM with an empty passphrase succeeded")
	}
}

func TestNoPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Create("file:ca.key", ECDSAP256, Options{BaseDir: dir})
	if !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("Create without a passphrase = %v, want ErrNoPassphrase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Create without a passphrase left a file behind")
	}
	if _, err := Load("file:ca.key", Options{BaseDir: dir}); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("Load without a passphrase = %v, want ErrNoPassphrase", err)
	}
}

// Tests using t.Setenv cannot run in parallel.

func TestPassphraseEnv(t *testing.T) {
	const name = "YAGONA_KMS_TEST_PASSPHRASE"
	dir := t.TempDir()
	uri := "file:ca.key?passphrase-env=" + name
	opts := Options{BaseDir: dir, Passphrase: []byte("ignored: the URI names a source")}

	t.Setenv(name, "from the environment")
	created, err := Create(uri, ECDSAP256, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	loaded, err := Load(uri, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !samePublicKey(created.Public(), loaded.Public()) {
		t.Fatal("loaded a different key")
	}
	// The URI's source wins over Options.Passphrase.
	if _, err := Load("file:ca.key", Options{BaseDir: dir, Passphrase: []byte("from the environment")}); err != nil {
		t.Fatalf("Load with the same passphrase from Options: %v", err)
	}

	t.Setenv(name, "")
	_, err = Load(uri, opts)
	if err == nil || !strings.Contains(err.Error(), name+" is empty") {
		t.Fatalf("Load with an empty variable = %v, want a clear error", err)
	}
	os.Unsetenv(name)
	_, err = Load(uri, opts)
	want := "kms: passphrase environment variable " + name + " is not set"
	if err == nil || err.Error() != want {
		t.Fatalf("Load with an unset variable = %v, want %q", err, want)
	}
}

func TestPassphraseFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("lf", "file secret\n")
	write("crlf", "file secret\r\n")
	write("bare", "file secret")
	write("empty", "\n")
	opts := Options{BaseDir: dir}

	// A relative passphrase-file resolves against BaseDir.
	created, err := Create("file:ca.key?passphrase-file=secrets/lf", RSA2048, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	abs := filepath.Join(dir, "secrets", "crlf")
	for _, uri := range []string{
		"file:ca.key?passphrase-file=secrets/lf",
		"file:ca.key?passphrase-file=" + abs,
		"file:ca.key?passphrase-file=secrets%2Fbare",
	} {
		loaded, err := Load(uri, opts)
		if err != nil {
			t.Fatalf("Load(%s): %v", uri, err)
		}
		if !samePublicKey(created.Public(), loaded.Public()) {
			t.Fatalf("Load(%s) returned a different key", uri)
		}
	}
	if _, err := Load("file:ca.key?passphrase-file=secrets/empty", opts); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("Load with an empty passphrase file = %v, want an is-empty error", err)
	}
	if _, err := Load("file:ca.key?passphrase-file=secrets/absent", opts); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load with a missing passphrase file = %v, want fs.ErrNotExist", err)
	}
}

func TestCreateRefusesOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{BaseDir: dir, Passphrase: testPass}
	first, err := Create("file:ca.key", Ed25519, opts)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	_, err = Create("file:ca.key", Ed25519, opts)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("second Create changed the file")
	}
	loaded, err := Load("file:ca.key", opts)
	if err != nil || !samePublicKey(first.Public(), loaded.Public()) {
		t.Fatalf("the first key no longer loads (%v)", err)
	}
	// The O_EXCL path, past the early check: writeNew alone refuses too.
	if err := writeNew(filepath.Join(dir, "ca.key"), []byte("x")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("writeNew over an existing file = %v, want fs.ErrExist", err)
	}
}

func TestExists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{BaseDir: dir, Passphrase: testPass}
	if ok, err := Exists("file:keys/ca.key", opts); ok || err != nil {
		t.Fatalf("Exists before Create = %v, %v", ok, err)
	}
	if _, err := Create("file:keys/ca.key", ECDSAP256, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "ca.key")); err != nil {
		t.Fatalf("relative key not created under BaseDir: %v", err)
	}
	// Exists needs no passphrase.
	if ok, err := Exists("file:keys/ca.key", Options{BaseDir: dir}); !ok || err != nil {
		t.Fatalf("Exists after Create = %v, %v", ok, err)
	}
	if ok, err := Exists("file://"+filepath.Join(dir, "keys", "ca.key"), Options{}); !ok || err != nil {
		t.Fatalf("Exists by absolute path = %v, %v", ok, err)
	}
	if ok, err := Exists("file:keys/ca.key", Options{BaseDir: t.TempDir()}); ok || err != nil {
		t.Fatalf("Exists under another BaseDir = %v, %v", ok, err)
	}
	if _, err := Exists("file:keys", opts); err == nil {
		t.Fatal("Exists of a directory succeeded")
	}
	if _, err := Exists("keys/ca.key", opts); err == nil {
		t.Fatal("Exists of a malformed URI succeeded")
	}
}

func TestGenerateKeyAndAlgorithmOf(t *testing.T) {
	t.Parallel()
	if _, err := GenerateKey("dsa-1024"); err == nil {
		t.Error("GenerateKey of an unknown algorithm succeeded")
	}
	if _, err := Create("file:x.key", "rsa-1024", Options{BaseDir: t.TempDir(), Passphrase: testPass}); err == nil {
		t.Error("Create of an unknown algorithm succeeded")
	}
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, pub := range map[string]crypto.PublicKey{"P-521": &p521.PublicKey, "RSA-1024": &rsa1024.PublicKey, "nil": nil} {
		if _, err := AlgorithmOf(pub); !errors.Is(err, ErrUnsupported) {
			t.Errorf("AlgorithmOf(%s) = %v, want ErrUnsupported", name, err)
		}
	}
	if _, err := EncryptPEM(p521, testPass); !errors.Is(err, ErrUnsupported) {
		t.Errorf("EncryptPEM(P-521) = %v, want ErrUnsupported", err)
	}
}

func TestNewPassphrase(t *testing.T) {
	t.Parallel()
	a, err := NewPassphrase()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassphrase()
	if len(a) != 43 || bytes.Equal(a, b) {
		t.Fatalf("NewPassphrase = %q, %q; want two different 43-character strings", a, b)
	}
	for _, c := range a {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			t.Fatalf("NewPassphrase = %q has a character outside base64url", a)
		}
	}
}

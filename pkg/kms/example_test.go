package kms_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/yagona/yagona/pkg/kms"
)

// Create an encrypted key file, load it back by its URI, and sign with
// it through crypto.Signer. Here the passphrase is given in Options; a
// configured URI usually names its source instead
// (file:/var/lib/yagona/ocsp.key?passphrase-env=YAGONA_KEY_PASSPHRASE).
func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "kms-example")
	defer os.RemoveAll(dir)
	uri := "file:" + filepath.Join(dir, "keys", "ocsp.key")
	opts := kms.Options{Passphrase: []byte("a long passphrase for the example")}

	created, err := kms.Create(uri, kms.ECDSAP256, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	ok, _ := kms.Exists(uri, opts)
	fmt.Println("exists:", ok)

	_, err = kms.Create(uri, kms.ECDSAP256, opts)
	fmt.Println("never overwritten:", errors.Is(err, fs.ErrExist))

	key, err := kms.Load(uri, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	alg, _ := kms.AlgorithmOf(key.Public())
	fmt.Println("loaded:", alg, key.Public().(*ecdsa.PublicKey).Equal(created.Public()))

	digest := sha256.Sum256([]byte("to be signed"))
	sig, _ := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	fmt.Println("verifies:", ecdsa.VerifyASN1(created.Public().(*ecdsa.PublicKey), digest[:], sig))

	_, err = kms.Load(uri, kms.Options{Passphrase: []byte("wrong")})
	fmt.Println("wrong passphrase:", errors.Is(err, kms.ErrWrongPassphrase))
	// Output:
	// exists: true
	// never overwritten: true
	// loaded: ecdsa-p256 true
	// verifies: true
	// wrong passphrase: true
}

package responder

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// corpus reads the committed seed corpus of FuzzParseRequest (Go's "go
// test fuzz v1" files of one []byte), so FuzzRespond and TestSeedCorpus
// share it.
func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/fuzz/FuzzParseRequest/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	seeds := map[string][]byte{}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		if !sc.Scan() || sc.Text() != "go test fuzz v1" || !sc.Scan() {
			t.Fatalf("%s: not a corpus file", p)
		}
		q, ok := strings.CutPrefix(sc.Text(), "[]byte(")
		q, ok2 := strings.CutSuffix(q, ")")
		s, err := strconv.Unquote(q)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s: bad value: %v", p, err)
		}
		seeds[filepath.Base(p)] = []byte(s)
	}
	return seeds
}

// FuzzParseRequest: the parser never panics; what it accepts is a single
// well-formed request that x/crypto/ocsp's parser reads the same way.
func FuzzParseRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseRequest(der)
		if err != nil {
			return
		}
		if r.SerialNumber.Sign() <= 0 || r.SerialNumber.BitLen() > 160 || len(r.IssuerNameHash) != r.HashAlgorithm.Size() ||
			len(r.IssuerKeyHash) != r.HashAlgorithm.Size() || (r.Nonce != nil && (len(r.Nonce) == 0 || len(r.Nonce) > MaxNonce+2)) {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
		x, err := ocsp.ParseRequest(der)
		if err != nil {
			t.Fatalf("we accept what x/crypto/ocsp refuses (%v): %x", err, der)
		}
		if x.HashAlgorithm != r.HashAlgorithm || x.SerialNumber.Cmp(r.SerialNumber) != 0 ||
			!bytes.Equal(x.IssuerNameHash, r.IssuerNameHash) || !bytes.Equal(x.IssuerKeyHash, r.IssuerKeyHash) {
			t.Fatalf("x/crypto/ocsp reads %+v, we read %+v", x, r)
		}
	})
}

// FuzzRespond: whatever arrives, Respond answers a parseable OCSP
// response, never an error or a panic; a successful one is signed by our
// responder.
func FuzzRespond(f *testing.F) {
	fx := newFixture(f)
	for _, s := range corpus(f) {
		f.Add(s)
	}
	// Requests for the fixture's issuer reach the signing path.
	for _, h := range allHashes {
		req := fx.request(f, fx.leaf(), h)
		f.Add(req)
		f.Add(withNonce(f, req, wrapped(f, []byte("0123456789abcdef"))))
		f.Add(withNonce(f, req, []byte{1, 2, 3}))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		resp, err := fx.r.Respond(context.Background(), der)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ocsp.ParseResponse(resp, fx.issuer)
		if err != nil {
			if _, ok := err.(ocsp.ResponseError); !ok {
				t.Fatalf("unparseable answer %x: %v", resp, err)
			}
			return
		}
		if !r.Certificate.Equal(fx.responder) {
			t.Fatal("answer not signed by the responder")
		}
	})
}

// TestSeedCorpus keeps the seed corpus honest: the OpenSSL-made requests
// parse, with the hash and nonce they were made with; the broken ones do
// not.
func TestSeedCorpus(t *testing.T) {
	for name, der := range corpus(t) {
		r, err := ParseRequest(der)
		if strings.HasPrefix(name, "broken-") {
			if err == nil {
				t.Errorf("%s: parsed", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := crypto.SHA1
		switch {
		case strings.Contains(name, "sha256"):
			want = crypto.SHA256
		case strings.Contains(name, "sha512"):
			want = crypto.SHA512
		}
		if r.HashAlgorithm != want || (r.Nonce != nil) != strings.Contains(name, "nonce") {
			t.Errorf("%s: hash %v, nonce %x", name, r.HashAlgorithm, r.Nonce)
		}
		if strings.Contains(name, "nonce") && (len(r.Nonce) != 18 || r.Nonce[0] != 0x04 || r.Nonce[1] != 16) {
			t.Errorf("%s: OpenSSL's nonce is a wrapped 16-octet OCTET STRING, got %x", name, r.Nonce)
		}
	}
}

package cms

import (
	"bytes"
	"encoding/asn1"
	"github.com/digitorus/pkcs7"
	"slices"

	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus from OpenSSL")

type pki struct {
	root, leaf *x509.Certificate
	rootKey    crypto.Signer
	key        crypto.Signer
}

func newPKI(t testing.TB, leafKey crypto.Signer) *pki {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	sn, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CMS Test Root " + sn.String()}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	lt := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: "Signer"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageClientAuth}}
	der, err = x509.CreateCertificate(rand.Reader, lt, root, leafKey.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &pki{root: root, leaf: leaf, rootKey: rk, key: leafKey}
}

func ecKey(t testing.TB, c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignVerifyRoundTrip(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for name, key := range map[string]crypto.Signer{"P-256": ecKey(t, elliptic.P256()), "P-384": ecKey(t, elliptic.P384()), "RSA-2048": rsaKey, "Ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			p := newPKI(t, key)
			content := []byte("yagona-login-v1\norigin: https://id.example.uz")
			for _, detached := range []bool{false, true} {
				der, err := Sign(content, p.leaf, []*x509.Certificate{p.root}, key, detached, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				var det []byte
				if detached {
					det = content
				}
				s, err := Verify(der, det)
				if err != nil {
					t.Fatalf("detached=%v: %v", detached, err)
				}
				if !bytes.Equal(s.Content, content) || len(s.Signers) != 1 || !s.Signers[0].Certificate.Equal(p.leaf) || s.Signers[0].SigningTime.IsZero() {
					t.Fatalf("detached=%v: %+v", detached, s)
				}
				// One byte of content changed: the signature fails.
				other := bytes.Clone(content)
				other[0] ^= 1
				if detached {
					if _, err := Verify(der, other); !errors.Is(err, ErrSignature) {
						t.Fatalf("changed detached content: %v", err)
					}
				}
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	p := newPKI(t, ecKey(t, elliptic.P256()))
	content := []byte("to sign")
	good, err := Sign(content, p.leaf, nil, p.key, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	detached, _ := Sign(content, p.leaf, nil, p.key, true, time.Now())
	flip := func(b []byte, sub []byte) []byte {
		i := bytes.Index(b, sub)
		if i < 0 {
			t.Fatalf("%q not found", sub)
		}
		c := bytes.Clone(b)
		c[i+len(sub)-1] ^= 1
		return c
	}
	tests := []struct {
		name     string
		der      []byte
		detached []byte
		want     error
	}{
		{"empty", nil, nil, ErrMalformed},
		{"truncated", good[:len(good)-10], nil, ErrMalformed},
		{"trailing", append(bytes.Clone(good), 0), nil, ErrMalformed},
		{"oversized", make([]byte, MaxSize+1), nil, ErrMalformed},
		{"not CMS", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil, ErrMalformed},
		{"indefinite length", append([]byte{0x30, 0x80}, append(bytes.Clone(good[2:]), 0, 0)...), nil, ErrMalformed},
		{"content changed", flip(good, content), nil, ErrSignature},
		{"detached expected, attached given", good, content, ErrMalformed},
		{"attached expected, detached given", detached, nil, ErrMalformed},
		{"detached over other bytes", detached, []byte("to sigm"), ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Verify(tc.der, tc.detached); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v; want %v", err, tc.want)
			}
		})
	}
}

func needOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// files writes the PKI for OpenSSL: root.pem, leaf.pem, key.pem.
func (p *pki) files(t testing.TB) string {
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "root.pem"), "CERTIFICATE", p.root.Raw)
	writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", p.leaf.Raw)
	k, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", k)
	return dir
}

// TestOpenSSLSignsWeVerify: signatures by `openssl cms -sign` verify.
func TestOpenSSLSignsWeVerify(t *testing.T) {
	needOpenSSL(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	content := []byte("yagona-login-v1\norigin: https://id.example.uz\nnonce: abc")
	for name, key := range map[string]crypto.Signer{"ecdsa": ecKey(t, elliptic.P256()), "rsa": rsaKey} {
		p := newPKI(t, key)
		dir := p.files(t)
		if err := os.WriteFile(filepath.Join(dir, "msg.txt"), content, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []struct {
			name     string
			args     []string
			detached bool
		}{
			{"attached", []string{"-nodetach"}, false},
			{"detached", nil, true},
			{"attached-cades", []string{"-nodetach", "-cades"}, false},
			{"detached-cades", []string{"-cades"}, true},
			{"detached-cades-pss", []string{"-cades", "-keyopt", "rsa_padding_mode:pss"}, true},
		} {
			if strings.HasSuffix(mode.name, "-pss") && name != "rsa" {
				continue
			}
			t.Run(name+"/"+mode.name, func(t *testing.T) {
				args := append([]string{"cms", "-sign", "-binary", "-in", "msg.txt", "-signer", "leaf.pem", "-inkey", "key.pem", "-outform", "DER", "-out", "sig.der"}, mode.args...)
				run(t, dir, args...)
				der, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
				var det []byte
				if mode.detached {
					det = content
				}
				s, err := Verify(der, det)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s.Content, content) || !s.Signers[0].Certificate.Equal(p.leaf) {
					t.Fatalf("verified %+v", s)
				}
				if *update && name == "ecdsa" {
					seed := filepath.Join("testdata", "fuzz", "FuzzVerify", "openssl-"+mode.name)
					_ = os.WriteFile(seed, []byte("go test fuzz v1\n[]byte("+quote(der)+")\n"), 0o644)
				}
			})
		}
	}
}

func quote(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		sb.WriteString("\\x")
		sb.WriteByte("0123456789abcdef"[c>>4])
		sb.WriteByte("0123456789abcdef"[c&15])
	}
	sb.WriteByte('"')
	return sb.String()
}

// TestWeSignOpenSSLVerifies: our signatures pass `openssl cms -verify`,
// CAdES included.
func TestWeSignOpenSSLVerifies(t *testing.T) {
	needOpenSSL(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	content := []byte("a decision to sign\n")
	for name, key := range map[string]crypto.Signer{"ecdsa-p256": ecKey(t, elliptic.P256()), "ecdsa-p384": ecKey(t, elliptic.P384()), "rsa": rsaKey} {
		t.Run(name, func(t *testing.T) {
			p := newPKI(t, key)
			dir := p.files(t)
			_ = os.WriteFile(filepath.Join(dir, "msg.txt"), content, 0o600)
			att, err := Sign(content, p.leaf, nil, key, false, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, "att.der"), att, 0o600)
			out := run(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "att.der", "-CAfile", "root.pem", "-purpose", "any", "-cades")
			if !bytes.Contains(out, content) {
				t.Fatalf("openssl output lacks the content: %s", out)
			}
			det, err := Sign(content, p.leaf, nil, key, true, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, "det.der"), det, 0o600)
			run(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "det.der", "-content", "msg.txt", "-CAfile", "root.pem", "-purpose", "any", "-cades", "-out", "/dev/null")
		})
	}
}

// TestCombine: three detached signatures (two of ours, one by OpenSSL)
// combined into one; every signer verifies, here and in OpenSSL.
func TestCombine(t *testing.T) {
	needOpenSSL(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	doc := []byte("decision text\n")
	var sigs [][]byte
	var dir string
	for i, key := range []crypto.Signer{ecKey(t, elliptic.P256()), rsaKey, ecKey(t, elliptic.P256())} {
		p := newPKI(t, key)
		if i == 0 {
			dir = p.files(t)
			_ = os.WriteFile(filepath.Join(dir, "msg.txt"), doc, 0o600)
		}
		if i == 2 {
			d := p.files(t)
			_ = os.WriteFile(filepath.Join(d, "msg.txt"), doc, 0o600)
			run(t, d, "cms", "-sign", "-cades", "-binary", "-in", "msg.txt", "-signer", "leaf.pem", "-inkey", "key.pem", "-outform", "DER", "-out", "sig.der")
			b, _ := os.ReadFile(filepath.Join(d, "sig.der"))
			root, _ := os.ReadFile(filepath.Join(d, "root.pem"))
			f, _ := os.OpenFile(filepath.Join(dir, "roots.pem"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			_, _ = f.Write(root)
			f.Close()
			sigs = append(sigs, b)
			continue
		}
		s, err := Sign(doc, p.leaf, []*x509.Certificate{p.root}, key, true, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw})
		f, _ := os.OpenFile(filepath.Join(dir, "roots.pem"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		_, _ = f.Write(root)
		f.Close()
		sigs = append(sigs, s)
	}
	combined, err := Combine(sigs...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(combined, doc)
	if err != nil {
		t.Fatalf("combined: %v", err)
	}
	if len(s.Signers) != 3 {
		t.Fatalf("combined: %d signers", len(s.Signers))
	}
	_ = os.WriteFile(filepath.Join(dir, "combined.der"), combined, 0o600)
	run(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", "combined.der", "-content", "msg.txt", "-CAfile", "roots.pem", "-purpose", "any", "-out", "/dev/null")
	if _, err := Combine(sigs[0], []byte("junk")); err == nil {
		t.Fatal("combined junk")
	}
	// Attached signatures over the same content combine too; over other
	// content, or mixed with a detached one, they do not.
	k1, k2 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	p1, p2 := newPKI(t, k1), newPKI(t, k2)
	a1, _ := Sign(doc, p1.leaf, nil, k1, false, time.Now())
	a2, _ := Sign(doc, p2.leaf, nil, k2, false, time.Now())
	att, err := Combine(a1, a2)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Verify(att, nil); err != nil || len(s.Signers) != 2 || !bytes.Equal(s.Content, doc) {
		t.Fatalf("attached combination: %v", err)
	}
	other, _ := Sign([]byte("other"), p2.leaf, nil, k2, false, time.Now())
	if _, err := Combine(a1, other); err == nil {
		t.Fatal("combined signatures over different content")
	}
	if _, err := Combine(a1, sigs[0]); err == nil {
		t.Fatal("combined attached with detached")
	}
}

// rewriteSignedAttrs re-encodes signer 0's signed attributes with f
// applied to their elements (for tests of hostile encodings).
func rewriteSignedAttrs(t *testing.T, der []byte, f func([][]byte) [][]byte) []byte {
	t.Helper()
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	var head signedDataHead
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil {
		t.Fatal(err)
	}
	var infos []signerInfo
	if _, err := asn1.UnmarshalWithParams(head.SignerInfos.FullBytes, &infos, "set"); err != nil {
		t.Fatal(err)
	}
	in := cryptobyte.String(infos[0].SignedAttrs.Bytes)
	var els [][]byte
	for !in.Empty() {
		var el cryptobyte.String
		in.ReadASN1Element(&el, cbasn1.SEQUENCE)
		els = append(els, el)
	}
	infos[0].SignedAttrs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(f(els), nil)}
	b, _ := asn1.Marshal(infos[0])
	head.SignerInfos = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: b}
	body, _ := asn1.Marshal(head)
	out, _ := asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: body}})
	return out
}

func TestSignedAttributesEncoding(t *testing.T) {
	p := newPKI(t, ecKey(t, elliptic.P256()))
	der, err := Sign([]byte("x"), p.leaf, nil, p.key, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	unsorted := rewriteSignedAttrs(t, der, func(els [][]byte) [][]byte {
		slices.Reverse(els)
		return els
	})
	if _, err := Verify(unsorted, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unsorted attributes: %v", err)
	}
	dup := rewriteSignedAttrs(t, der, func(els [][]byte) [][]byte {
		out := append([][]byte{}, els...)
		out = append(out, els[len(els)-1])
		slices.SortFunc(out, bytes.Compare)
		return out
	})
	if _, err := Verify(dup, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("duplicated attribute: %v", err)
	}
}

// TestSignPSS: an RSASSA-PSS signature of ours verifies here and in
// OpenSSL (with -cades).
func TestSignPSS(t *testing.T) {
	needOpenSSL(t)
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	p := newPKI(t, k)
	dir := p.files(t)
	content := []byte("PSS-signed decision\n")
	_ = os.WriteFile(filepath.Join(dir, "msg.txt"), content, 0o600)
	der, err := SignPSS(content, p.leaf, nil, k, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(der, content); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "pss.der"), der, 0o600)
	out := run(t, dir, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "pss.der")
	if !bytes.Contains(out, []byte("rsassaPss")) {
		t.Fatalf("not PSS: %s", out)
	}
	run(t, dir, "cms", "-verify", "-cades", "-binary", "-inform", "DER", "-in", "pss.der", "-content", "msg.txt", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null")
	if _, err := SignPSS(content, p.leaf, nil, ecKey(t, elliptic.P256()), true, time.Now()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("PSS with an EC key: %v", err)
	}
}

// oddSigner is a key of a type no CMS algorithm covers.
type oddSigner struct{ crypto.Signer }

func (oddSigner) Public() crypto.PublicKey { return struct{}{} }

// TestSignUnsupportedKey: a key type CMS cannot name is ErrUnsupported,
// recognised by type before the signing library sees it.
func TestSignUnsupportedKey(t *testing.T) {
	p := newPKI(t, ecKey(t, elliptic.P256()))
	if _, err := Sign([]byte("x"), p.leaf, nil, oddSigner{p.key}, false, time.Now()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Sign = %v; want ErrUnsupported", err)
	}
	if _, err := Sign([]byte("x"), p.leaf, nil, ecKey(t, elliptic.P224()), false, time.Now()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Sign with P-224 = %v; want ErrUnsupported", err)
	}
}

// TestVerifyContentTypeMismatch: a content-type attribute that is not the
// encapsulated type is ErrSignature and ErrContentType, so validation can
// report FORMAT_FAILURE by kind.
func TestVerifyContentTypeMismatch(t *testing.T) {
	p := newPKI(t, ecKey(t, elliptic.P256()))
	sd, err := pkcs7.NewSignedData([]byte("to sign"))
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(p.leaf, p.key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	// The attribute says id-data; the encapsulated type now says TSTInfo.
	sd.SetContentType(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4})
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(der, nil)
	if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrContentType) {
		t.Fatalf("Verify = %v; want ErrSignature and ErrContentType", err)
	}
}

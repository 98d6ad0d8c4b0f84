package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Interop on the whole path (issue 16): a good and a revoked citizen
// certificate, judged by relying parties nobody here wrote, each checking
// the revocation status of the leaf and of the issuing CA. Each judge skips
// when its tool is missing; .ci/run installs them and fails on a skip.

// pathCase is one leaf with its chain in dir: leaf.pem, issuing.pem,
// root.pem, chain.pem (leaf and issuing), crls.pem (the leaf's CRLs, full
// and shard, and the issuing CA's, downloaded from their distribution
// points).
type pathCase struct {
	name    string
	dir     string
	revoked bool
}

func (s *testServer) pathCases(t *testing.T) []pathCase {
	good := pathCase{name: "good", dir: t.TempDir()}
	bad := pathCase{name: "revoked", dir: t.TempDir(), revoked: true}
	s.enrollWithOpenSSL(good.dir, "31204900016001", "citizen", nil)
	serial := s.enrollWithOpenSSL(bad.dir, "31204900016002", "citizen", nil)
	s.mustCLI("cert", "revoke", "--serial", serial, "--reason", "keyCompromise")
	for _, c := range []pathCase{good, bad} {
		leaf, iss := readPEMCert(t, c.dir, "leaf.pem"), readPEMCert(t, c.dir, "issuing.pem")
		if len(leaf.CRLDistributionPoints) == 0 || len(iss.CRLDistributionPoints) != 1 || len(iss.OCSPServer) != 1 || len(iss.IssuingCertificateURL) != 1 {
			t.Fatalf("leaf CDP %v; issuing CDP %v, OCSP %v, caIssuers %v", leaf.CRLDistributionPoints,
				iss.CRLDistributionPoints, iss.OCSPServer, iss.IssuingCertificateURL)
		}
		if root := readPEMCert(t, c.dir, "root.pem"); string(s.fetch(iss.IssuingCertificateURL[0])) != string(root.Raw) {
			t.Fatalf("%s does not serve the root", iss.IssuingCertificateURL[0])
		}
		var crls []byte
		for _, u := range append(leaf.CRLDistributionPoints, iss.CRLDistributionPoints[0]) {
			crls = append(crls, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: s.fetch(u)})...)
		}
		write(t, c.dir, "crls.pem", string(crls))
		l, _ := os.ReadFile(filepath.Join(c.dir, "leaf.pem"))
		i, _ := os.ReadFile(filepath.Join(c.dir, "issuing.pem"))
		write(t, c.dir, "chain.pem", string(l)+string(i))
	}
	return []pathCase{good, bad}
}

func readPEMCert(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs a judge in dir and returns its combined output; the exit status
// is not an error (judges exit non-zero on a revoked certificate).
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", name, err)
	}
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not on PATH (Debian: see .ci/run)", n)
		}
	}
}

func TestWholePathInterop(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	cases := s.pathCases(t)
	t.Run("OpenSSL", func(t *testing.T) { pathOpenSSL(t, s, cases) })
	t.Run("GnuTLS", func(t *testing.T) { pathGnuTLS(t, cases) })
	t.Run("NSS", func(t *testing.T) { pathNSS(t, cases) })
	t.Run("Java", func(t *testing.T) { pathJava(t, cases) })
}

// pathOpenSSL: verify -crl_check_all with the downloaded CRLs and with
// -crl_download, and openssl ocsp for each level.
func pathOpenSSL(t *testing.T, s *testServer, cases []pathCase) {
	for _, c := range cases {
		want := "leaf.pem: OK"
		if c.revoked {
			want = "certificate revoked"
		}
		for _, src := range [][]string{{"-CRLfile", "crls.pem"}} {
			args := append([]string{"verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-crl_check_all"}, src...)
			if out := run(t, c.dir, "openssl", append(args, "leaf.pem")...); !strings.Contains(out, want) {
				t.Errorf("%s, %s: want %q:\n%s", c.name, src[0], want, out)
			}
		}
		// The root's answer for the issuing CA, then the issuing CA's
		// answer for the leaf.
		out := run(t, c.dir, "openssl", "ocsp", "-no_nonce", "-issuer", "root.pem", "-cert", "issuing.pem", "-url", s.http+"/ocsp",
			"-CAfile", "root.pem")
		if !strings.Contains(out, "issuing.pem: good") || !strings.Contains(out, "Response verify OK") {
			t.Errorf("%s: issuing CA by OCSP:\n%s", c.name, out)
		}
		want = "leaf.pem: good"
		if c.revoked {
			want = "leaf.pem: revoked"
		}
		out = run(t, c.dir, "openssl", "ocsp", "-no_nonce", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-url", s.http+"/ocsp",
			"-CAfile", "root.pem", "-verify_other", "issuing.pem")
		if !strings.Contains(out, want) || !strings.Contains(out, "Response verify OK") {
			t.Errorf("%s: leaf by OCSP, want %q:\n%s", c.name, want, out)
		}
	}
}

// pathGnuTLS: certtool --verify with both CRLs; ocsptool for each level.
func pathGnuTLS(t *testing.T, cases []pathCase) {
	needTool(t, "certtool", "ocsptool")
	for _, c := range cases {
		out := run(t, c.dir, "certtool", "--verify", "--load-ca-certificate", "root.pem", "--load-crl", "crls.pem", "--infile", "chain.pem")
		verified := strings.Contains(out, "Chain verification output: Verified")
		if verified == c.revoked || (c.revoked && !strings.Contains(strings.ToLower(out), "revoked")) {
			t.Errorf("%s: certtool:\n%s", c.name, out)
		}
		out = run(t, c.dir, "ocsptool", "--ask", "--load-issuer", "root.pem", "--load-cert", "issuing.pem")
		if !strings.Contains(out, "Certificate Status: good") {
			t.Errorf("%s: ocsptool on the issuing CA:\n%s", c.name, out)
		}
		want := "Certificate Status: good"
		if c.revoked {
			want = "Certificate Status: revoked"
		}
		if out := run(t, c.dir, "ocsptool", "--ask", "--load-issuer", "issuing.pem", "--load-cert", "leaf.pem"); !strings.Contains(out, want) {
			t.Errorf("%s: ocsptool on the leaf, want %q:\n%s", c.name, want, out)
		}
	}
}

// pathNSS: vfychain -pp with the CRL method, then the OCSP method, every
// certificate of the path requiring status information.
func pathNSS(t *testing.T, cases []pathCase) {
	needTool(t, "certutil", "vfychain")
	for _, c := range cases {
		db := "sql:" + filepath.Join(c.dir, "nssdb")
		if err := os.Mkdir(filepath.Join(c.dir, "nssdb"), 0o700); err != nil {
			t.Fatal(err)
		}
		run(t, c.dir, "certutil", "-N", "-d", db, "--empty-password")
		run(t, c.dir, "certutil", "-A", "-d", db, "-n", "root", "-t", "CT,C,C", "-i", "root.pem")
		for _, method := range []string{"crl", "ocsp"} {
			out := run(t, c.dir, "vfychain", "-d", db, "-pp", "-u", "4",
				"-g", "leaf", "-m", method, "-s", "requireInfo", "-g", "chain", "-m", method, "-s", "requireInfo",
				"-a", "leaf.pem", "-a", "issuing.pem")
			good := strings.Contains(out, "Chain is good!")
			if good == c.revoked || (c.revoked && !strings.Contains(out, "-8180")) {
				t.Errorf("%s: vfychain -m %s:\n%s", c.name, method, out)
			}
		}
	}
}

// pathJava: Java's PKIX validator with revocation on, by its default order
// (OCSP, then CRL), by OCSP only and by CRL distribution points only.
func pathJava(t *testing.T, cases []pathCase) {
	needTool(t, "java", "javac")
	classes := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "PathCheck.java"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("javac", "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	for _, c := range cases {
		for _, mode := range []string{"default", "ocsp", "crl"} {
			out := run(t, c.dir, "java", "-cp", classes, "PathCheck", mode, "root.pem", "issuing.pem", "leaf.pem")
			ok := strings.Contains(out, "VALID") && !strings.Contains(out, "INVALID")
			if c.revoked {
				ok = strings.Contains(out, "INVALID index 0 reason REVOKED")
			}
			if !ok {
				t.Errorf("%s: Java PKIX (%s):\n%s", c.name, mode, out)
			}
		}
	}
}

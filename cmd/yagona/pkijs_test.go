package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/yagona/yagona/pkg/cms"
)

// pkijsVerdict is what interop/pkijs/verify.mjs prints.
type pkijsVerdict struct {
	Signature, Timestamp, SignatureWholePath, TimestampWholePath struct {
		OK    bool   `json:"ok"`
		Path  int    `json:"path"`
		Error string `json:"error"`
	}
	Revocation struct{ OCSP, CRL int }
}

// checkPKIjs has PKI.js (npm) verify the B-LT signature sig of doc with
// only root as trusted anchor (SignedData.verify with checkChain): the
// signature and its time-stamp token, each with its chain.
//
// PKI.js reads OCSP responses in a SignedData only in the
// id-pkix-ocsp-basic form, not RFC 5940's id-ri-ocsp-response that CAdES
// uses; verify.mjs hands it the responses the signature carries. Its
// chain engine then wants revocation data for every certificate on the
// path, or fails: so when the issuing CA names a CRL or a responder (and
// B-LT carries its data), the whole path is checked with revocation;
// before that, the chain alone.
//
// .ci/run installs PKI.js (npm ci) and sets YAGONA_TEST_NODE=1, which
// turns a missing installation into a failure; without it the check is
// left out (the caller's test goes on).
func checkPKIjs(t *testing.T, sig, doc, root string) {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "interop", "pkijs"))
	node, nodeErr := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pkijs")); err != nil || nodeErr != nil {
		if os.Getenv("YAGONA_TEST_NODE") != "" {
			t.Fatalf("PKI.js is not installed in %s (npm ci) or node is missing", dir)
		}
		t.Log("PKI.js not installed (npm ci in interop/pkijs): its check is left out")
		return
	}
	cmd := exec.Command(node, "verify.mjs", sig, doc, root)
	cmd.Dir = dir
	out, err := cmd.Output()
	var v pkijsVerdict
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("PKI.js: %v %s", err, out)
	}
	if v.Revocation.OCSP < 2 {
		t.Fatalf("PKI.js reads %d OCSP responses, want the signer's and the TSA's: %s", v.Revocation.OCSP, out)
	}
	signature, token := v.Signature, v.Timestamp
	if caDataCarried(t, sig, doc) {
		signature, token = v.SignatureWholePath, v.TimestampWholePath
	}
	if !signature.OK || signature.Path != 3 || !token.OK || token.Path != 3 {
		t.Fatalf("PKI.js does not verify the B-LT signature and its time-stamp with only the root: %s", out)
	}
}

// caDataCarried says whether the issuing CA of the signature's signer
// names a revocation source (so B-LT carries data for it).
func caDataCarried(t *testing.T, sig, doc string) bool {
	p, err := cms.Parse(mustRead(t, sig), mustRead(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Certificates {
		if c.IsCA && (len(c.OCSPServer) > 0 || len(c.CRLDistributionPoints) > 0) {
			return true
		}
	}
	return false
}

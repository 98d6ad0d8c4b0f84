package validation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cms"
)

// loginText is a login statement, as the identity provider issues one.
const loginText = "Yagona login statement v2\nI log in with my authentication key to the service named below. This is not the signature of a document.\n" +
	"issuer: https://id.example.uz\nclient-id: tax\nclient-name: Tax service\norigin: https://id.example.uz\nrequest: r1\n" +
	"nonce: nMT2xaF2Qq3b0iBvKjB3wEkcVtN8PzR1yQ0aM9m1s7E\nissued-at: 2026-12-05T21:00:00Z\nexpires-at: 2026-12-05T21:02:00Z"

// upload sends sig and doc to the validation endpoint as multipart parts
// (the document streamed through the hashes) and returns the Input the
// handler read.
func upload(t *testing.T, v *Validator, sig []byte, doc string) Input {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	sp, _ := mw.CreateFormFile("signature", "doc.p7s")
	sp.Write(sig)
	dp, _ := mw.CreateFormFile("document", "doc.txt")
	dp.Write([]byte(doc))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/signatures/verify", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	in, status, msg := readInput(httptest.NewRecorder(), req)
	if status != 0 || in.Document != nil || in.Digests == nil {
		t.Fatalf("upload: %d %s %+v", status, msg, in)
	}
	return in
}

// TestLoginStatementIsNotADocument: a signature over a login statement,
// attached or detached, whole or altered, is TOTAL-FAILED FORMAT_FAILURE
// with a login_statement check that says why in words; a document gets
// no such check; the policy can turn the constraint off.
func TestLoginStatementIsNotADocument(t *testing.T) {
	ca := newCA(t, "Yagona")
	v := newValidator(t, ca, &statuses{m: nil})
	now := time.Now()
	p := ca.person(t, "31204900012345", nil, now.Add(-time.Hour), now.Add(time.Hour))
	sign := func(content string, detached bool) []byte {
		der, err := cms.Sign([]byte(content), p.cert, []*x509.Certificate{ca.issuing}, p.key, detached, now)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	detached := func(content string) Input { return Input{Signature: sign(content, true), Document: []byte(content)} }
	ignore := *v.Policy
	ignore.Constraints = map[string]Level{}
	for c, l := range v.Policy.Constraints {
		ignore.Constraints[c] = l
	}
	ignore.Constraints[CLoginStatement] = Ignore
	for _, tc := range []struct {
		name    string
		in      Input
		policy  *Policy
		flagged bool   // the login_statement check failed
		result  string // the login_statement check's result; "" for none
	}{
		{"attached", Input{Signature: sign(loginText, false)}, nil, true, "failed"},
		{"detached", detached(loginText), nil, true, "failed"},
		{"altered", detached(strings.Replace(loginText, "Tax service", "Contract", 1)), nil, true, "failed"},
		{"truncated", detached(loginText[:80]), nil, true, "failed"},
		{"version 1", detached("yagona-login-v1\norigin: https://id.example.uz"), nil, true, "failed"},
		{"a document", detached("Contract no. 5"), nil, false, ""},
		{"only the digest given", func() Input {
			sum := sha256.Sum256([]byte(loginText))
			return Input{Signature: sign(loginText, true), Digests: map[crypto.Hash][]byte{crypto.SHA256: sum[:]}}
		}(), nil, false, ""},
		{"digests and the document's head", func() Input {
			sum := sha256.Sum256([]byte(loginText))
			return Input{Signature: sign(loginText, true), Digests: map[crypto.Hash][]byte{crypto.SHA256: sum[:]}, Head: []byte(loginText[:HeadSize])}
		}(), nil, true, "failed"},
		{"uploaded in parts", upload(t, v, sign(loginText, true), loginText), nil, true, "failed"},
		{"a document uploaded in parts", upload(t, v, sign("Contract no. 5", true), "Contract no. 5"), nil, false, ""},
		{"constraint ignored", detached(loginText), &ignore, false, "skipped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vv := *v
			if tc.policy != nil {
				vv.Policy = tc.policy
			}
			rep := vv.Validate(context.Background(), tc.in)
			var got *Check
			for i, c := range rep.Signers[0].Checks {
				if c.Constraint == CLoginStatement {
					got = &rep.Signers[0].Checks[i]
				}
			}
			if tc.flagged != (rep.Indication == TotalFailed && rep.SubIndication == FormatFailure) {
				t.Fatalf("%s/%s; flagged: %v", rep.Indication, rep.SubIndication, tc.flagged)
			}
			if !tc.flagged && rep.Indication != TotalPassed {
				t.Fatalf("%s/%s; want passed", rep.Indication, rep.SubIndication)
			}
			if (got == nil) != (tc.result == "") || (got != nil && got.Result != tc.result) {
				t.Fatalf("login_statement check %+v; want %q", got, tc.result)
			}
			if tc.flagged && !strings.Contains(got.Detail, "this is a login statement, not a document") {
				t.Fatalf("detail %q", got.Detail)
			}
		})
	}
}

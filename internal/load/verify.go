package load

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"mime/multipart"
	"time"

	"github.com/yagona/yagona/pkg/cms"
)

// verifyDocSize is the size of the document the verify scenario signs.
const verifyDocSize = 100 << 10

// PrepareVerify enrolls up to signers people (at most 8), each makes a
// detached CAdES-B signature over one random 100 KB document, untimed;
// each timed request posts a document and one of the signatures to POST
// /api/v1/signatures/verify as multipart/form-data (as yagona verify
// does), and the report must say TOTAL-PASSED.
func (c *Client) PrepareVerify(signers int) (Plan, error) {
	ps, err := c.enroll(max(1, min(signers, 8)))
	if err != nil {
		return Plan{}, err
	}
	doc := make([]byte, verifyDocSize)
	_, _ = rand.Read(doc)
	bodies, types := make([][]byte, len(ps)), make([]string, len(ps))
	for i, p := range ps {
		sig, err := cms.Sign(doc, p.cert, p.chain, p.key, true, time.Now())
		if err != nil {
			return Plan{}, err
		}
		if bodies[i], types[i], err = verifyBody(doc, sig); err != nil {
			return Plan{}, err
		}
	}
	bs := &browsers{c: c}
	return Plan{Targets: c.servers, Close: bs.close, Do: func(w, i int) (int, error) {
		this, _ := c.target(w)
		return bs.timed(w, func(b *browser) error {
			res, err := b.do(this, "POST", "/api/v1/signatures/verify", types[i%len(ps)], "", bodies[i%len(ps)])
			if err != nil {
				return err
			}
			var rep struct {
				Indication string `json:"indication"`
			}
			if res.status != 200 || json.Unmarshal(res.body, &rep) != nil || rep.Indication != "TOTAL-PASSED" {
				return badStatus("verify", res)
			}
			return nil
		})
	}}, nil
}

// verifyBody is a multipart/form-data body with the document and the
// signature parts.
func verifyBody(doc, sig []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, part := range []struct {
		name string
		data []byte
	}{{"document", doc}, {"signature", sig}} {
		w, err := mw.CreateFormFile(part.name, part.name)
		if err != nil {
			return nil, "", err
		}
		if _, err := w.Write(part.data); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

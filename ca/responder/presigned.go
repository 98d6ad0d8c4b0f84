package responder

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Presigned answers are signed ahead of time by an issuer whose key is
// not kept on line, the root: the answer for the issuing CA certificate,
// made at the root-key step together with the root's CRL (docs/ca.md).
// The issuer signs them itself (RFC 6960 §4.2.2.2: the CA that issued the
// certificate), one per CertID hash algorithm, and the responder serves
// them as they are for a request naming that issuer and serial; a nonce
// is not echoed, as RFC 5019 allows.

// SignIssuerAnswers signs, with the issuer's own key, the answers for the
// certificate cert issued by issuer: status st, from thisUpdate to
// nextUpdate, one answer per CertID hash algorithm the responder knows.
func SignIssuerAnswers(issuer *x509.Certificate, key crypto.Signer, cert *x509.Certificate, st CertStatus, thisUpdate, nextUpdate time.Time) ([][]byte, error) {
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("responder: %w", err)
	}
	s, err := newSigner(issuer, issuer, key)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(hashes))
	for i := range hashes {
		der, err := s.sign(&Request{hashIndex: i, SerialNumber: cert.SerialNumber}, st, thisUpdate, nextUpdate, thisUpdate)
		if err != nil {
			return nil, err
		}
		out = append(out, der)
	}
	return out, nil
}

// presigned maps a CertID (hash algorithm, issuer hashes, serial) to its
// answer.
type presigned map[string]answer

func presignedKey(hashIndex int, nameHash, keyHash []byte, serial string) string {
	return fmt.Sprintf("%d|%x|%x|%s", hashIndex, nameHash, keyHash, serial)
}

// SetPresigned replaces the pre-signed answers (as SignIssuerAnswers makes
// them) that the responder serves for CertIDs of another issuer than its
// own. Answers past their nextUpdate are served all the same: the client
// judges their freshness.
func (r *Responder) SetPresigned(ders [][]byte) error {
	m := presigned{}
	for _, der := range ders {
		id, a, err := parsePresigned(der)
		if err != nil {
			return err
		}
		m[id] = a
	}
	r.pre.Store(&m)
	return nil
}

func parsePresigned(der []byte) (string, answer, error) {
	var resp ocspResponse
	if rest, err := asn1.Unmarshal(der, &resp); err != nil || len(rest) > 0 || resp.Status != 0 {
		return "", answer{}, errors.New("responder: pre-signed answer is not a successful OCSP response")
	}
	var basic basicResponse
	if _, err := asn1.Unmarshal(resp.ResponseBytes.Response, &basic); err != nil {
		return "", answer{}, fmt.Errorf("responder: pre-signed answer: %w", err)
	}
	var rd responseData
	if _, err := asn1.Unmarshal(basic.TBSResponseData.FullBytes, &rd); err != nil || len(rd.Responses) != 1 {
		return "", answer{}, errors.New("responder: pre-signed answer must hold one response")
	}
	sr := rd.Responses[0]
	for i, h := range hashes {
		if sr.CertID.HashAlgorithm.Algorithm.Equal(h.oid) {
			a := answer{der: der, status: stGood, thisUpdate: sr.ThisUpdate, nextUpdate: sr.NextUpdate}
			if !sr.Revoked.RevocationTime.IsZero() {
				a.status = stRevoked
			}
			return presignedKey(i, sr.CertID.IssuerNameHash, sr.CertID.IssuerKeyHash, sr.CertID.SerialNumber.Text(16)), a, nil
		}
	}
	return "", answer{}, errors.New("responder: pre-signed answer with an unknown CertID hash")
}

// lookupPresigned finds the pre-signed answer for req.
func (r *Responder) lookupPresigned(req *Request) (answer, bool) {
	m := r.pre.Load()
	if m == nil {
		return answer{}, false
	}
	a, ok := (*m)[presignedKey(req.hashIndex, req.IssuerNameHash, req.IssuerKeyHash, req.SerialNumber.Text(16))]
	return a, ok
}

// AnswerSerial returns the serial number an answer made by
// SignIssuerAnswers is about.
func AnswerSerial(der []byte) (*big.Int, error) {
	var resp ocspResponse
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, fmt.Errorf("responder: %w", err)
	}
	var basic basicResponse
	if _, err := asn1.Unmarshal(resp.ResponseBytes.Response, &basic); err != nil {
		return nil, fmt.Errorf("responder: %w", err)
	}
	var rd responseData
	if _, err := asn1.Unmarshal(basic.TBSResponseData.FullBytes, &rd); err != nil || len(rd.Responses) == 0 {
		return nil, errors.New("responder: no response in answer")
	}
	return rd.Responses[0].CertID.SerialNumber, nil
}

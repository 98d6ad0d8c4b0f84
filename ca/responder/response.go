package responder

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// ASN.1 of RFC 6960 §4.2.1. We encode responses ourselves because
// golang.org/x/crypto/ocsp.CreateResponse cannot make the ones we need: it
// puts template.ExtraExtensions into singleExtensions, while a nonce
// belongs in responseExtensions (RFC 8954 §2.1; OpenSSL looks for it only
// there); it takes producedAt from the wall clock, truncated to the
// minute, ignoring Config.Now; it identifies the responder only by name;
// and it re-hashes the issuer on every signature. x/crypto/ocsp still
// checks what we make: the tests parse every answer with
// ocsp.ParseResponseForCert.
type revokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

type singleResponse struct {
	CertID     certID
	Good       asn1.Flag   `asn1:"tag:0,optional"`
	Revoked    revokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag   `asn1:"tag:2,optional"`
	ThisUpdate time.Time   `asn1:"generalized"`
	NextUpdate time.Time   `asn1:"generalized,explicit,tag:0,optional"`
}

type responseData struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []singleResponse
	Extensions  []pkix.Extension `asn1:"optional,explicit,tag:1"`
}

type basicResponse struct {
	TBSResponseData    asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseBytes struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type ocspResponse struct {
	Status        asn1.Enumerated
	ResponseBytes responseBytes `asn1:"explicit,tag:0,optional"`
}

var oidBasicResponse = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// Unsuccessful responses (RFC 6960 §4.2.1): an OCSPResponse with only a
// status. They equal ocsp.MalformedRequestErrorResponse and friends.
var (
	malformedDER    = []byte{0x30, 0x03, 0x0a, 0x01, 0x01}
	tryLaterDER     = []byte{0x30, 0x03, 0x0a, 0x01, 0x03}
	unauthorizedDER = []byte{0x30, 0x03, 0x0a, 0x01, 0x06}
)

// signer signs BasicOCSPResponses for one issuer.
type signer struct {
	issuer    *x509.Certificate
	cert      *x509.Certificate
	key       crypto.Signer
	hash      crypto.Hash
	sigAlg    pkix.AlgorithmIdentifier
	responder asn1.RawValue // ResponderID byKey
	// per CertID hash algorithm (index into hashes): the issuer's hashes
	nameHash, keyHash [][]byte
}

func newSigner(issuer, cert *x509.Certificate, key crypto.Signer) (*signer, error) {
	s := &signer{issuer: issuer, cert: cert, key: key}
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			s.hash, s.sigAlg = crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}
		case elliptic.P384():
			s.hash, s.sigAlg = crypto.SHA384, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}}
		default:
			return nil, errors.New("responder: unsupported ECDSA curve")
		}
	case *rsa.PublicKey:
		s.hash = crypto.SHA256
		s.sigAlg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("responder: unsupported signing key %T", key.Public())
	}
	if !publicKeyEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("responder: key does not match the responder certificate")
	}
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("responder: responder certificate is not issued by the issuer: %w", err)
	}
	keyBits, err := spkiBits(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, err
	}
	kh := sha1.Sum(keyBits)
	khDER, _ := asn1.Marshal(kh[:])
	s.responder = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: khDER}
	issuerBits, err := spkiBits(issuer.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, err
	}
	for _, h := range hashes {
		hn := h.hash.New()
		hn.Write(issuer.RawSubject)
		s.nameHash = append(s.nameHash, hn.Sum(nil))
		hk := h.hash.New()
		hk.Write(issuerBits)
		s.keyHash = append(s.keyHash, hk.Sum(nil))
	}
	return s, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

func spkiBits(spki []byte) ([]byte, error) {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("responder: parse public key: %w", err)
	}
	return info.PublicKey.RightAlign(), nil
}

// sign builds and signs a successful response for one certificate.
func (s *signer) sign(req *Request, st CertStatus, thisUpdate, nextUpdate, producedAt time.Time) ([]byte, error) {
	h := hashes[req.hashIndex]
	sr := singleResponse{
		CertID: certID{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: h.oid, Parameters: asn1.NullRawValue},
			IssuerNameHash: s.nameHash[req.hashIndex], IssuerKeyHash: s.keyHash[req.hashIndex], SerialNumber: req.SerialNumber},
		ThisUpdate: thisUpdate.UTC(),
		NextUpdate: nextUpdate.UTC(),
	}
	switch st.Status {
	case Good:
		sr.Good = true
	case Revoked:
		at := st.RevokedAt
		if at.IsZero() {
			// A zero time would vanish from the encoding with the whole
			// revokedInfo (an optional field at its zero value), leaving
			// no status at all. Revoked since ever is the safe answer.
			at = time.Unix(0, 0)
		}
		sr.Revoked = revokedInfo{RevocationTime: at.UTC().Truncate(time.Second), Reason: asn1.Enumerated(st.Reason)}
	default:
		sr.Unknown = true
	}
	rd := responseData{ResponderID: s.responder, ProducedAt: producedAt.UTC().Truncate(time.Second), Responses: []singleResponse{sr}}
	if req.Nonce != nil {
		rd.Extensions = []pkix.Extension{{Id: oidNonce, Value: req.Nonce}}
	}
	tbs, err := asn1.Marshal(rd)
	if err != nil {
		return nil, fmt.Errorf("responder: encode response: %w", err)
	}
	hh := s.hash.New()
	hh.Write(tbs)
	sig, err := s.key.Sign(rand.Reader, hh.Sum(nil), s.hash)
	if err != nil {
		return nil, fmt.Errorf("responder: sign: %w", err)
	}
	basic, err := asn1.Marshal(basicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: s.sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
		Certificates:       []asn1.RawValue{{FullBytes: s.cert.Raw}},
	})
	if err != nil {
		return nil, fmt.Errorf("responder: encode response: %w", err)
	}
	out, err := asn1.Marshal(ocspResponse{ResponseBytes: responseBytes{ResponseType: oidBasicResponse, Response: basic}})
	if err != nil {
		return nil, fmt.Errorf("responder: encode response: %w", err)
	}
	return out, nil
}

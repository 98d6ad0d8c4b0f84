package responder

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// ASN.1 of RFC 6960 §4.1.1.
type certID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

type singleRequest struct {
	ReqCert    certID
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type tbsRequest struct {
	Version       int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []singleRequest
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type ocspRequest struct {
	TBSRequest tbsRequest
	Signature  asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

var (
	oidNonce  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// hashes are the CertID hash algorithms we answer for.
var hashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{oidSHA1, crypto.SHA1, "sha1"},
	{oidSHA256, crypto.SHA256, "sha256"},
	{oidSHA384, crypto.SHA384, "sha384"},
	{oidSHA512, crypto.SHA512, "sha512"},
}

// Request is a parsed OCSP request for one certificate.
type Request struct {
	HashAlgorithm  crypto.Hash
	hashIndex      int
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
	// Nonce is the extnValue of the id-pkix-ocsp-nonce request extension
	// exactly as sent (RFC 8954), or nil.
	Nonce []byte
}

// MaxNonce is the largest nonce accepted: RFC 8954 §2.1 allows 1 to 32
// octets; the extnValue adds two octets of OCTET STRING header when the
// client wraps it, as OpenSSL does.
const MaxNonce = 32 + 2

// Parse errors.
var (
	ErrMalformed   = errors.New("responder: malformed request")
	ErrUnsupported = errors.New("responder: unsupported hash algorithm")
)

// ParseRequest parses a DER OCSPRequest holding exactly one certificate
// request. Trailing data, several requests and unknown critical extensions
// are malformed.
func ParseRequest(der []byte) (*Request, error) {
	var req ocspRequest
	rest, err := asn1.Unmarshal(der, &req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	tbs := req.TBSRequest
	if tbs.Version != 0 {
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, tbs.Version)
	}
	if len(tbs.RequestList) != 1 {
		return nil, fmt.Errorf("%w: %d requests, want 1", ErrMalformed, len(tbs.RequestList))
	}
	sr := tbs.RequestList[0]
	id := sr.ReqCert
	if id.SerialNumber == nil || id.SerialNumber.Sign() <= 0 || id.SerialNumber.BitLen() > 20*8 {
		return nil, fmt.Errorf("%w: serial number out of range", ErrMalformed)
	}
	for _, e := range sr.Extensions {
		if e.Critical {
			return nil, fmt.Errorf("%w: unknown critical single request extension %v", ErrMalformed, e.Id)
		}
	}
	r := &Request{IssuerNameHash: id.IssuerNameHash, IssuerKeyHash: id.IssuerKeyHash, SerialNumber: id.SerialNumber, hashIndex: -1}
	for _, e := range tbs.Extensions {
		switch {
		case e.Id.Equal(oidNonce):
			if r.Nonce != nil || len(e.Value) == 0 || len(e.Value) > MaxNonce {
				return nil, fmt.Errorf("%w: nonce must be one extension of 1 to 32 octets", ErrMalformed)
			}
			r.Nonce = e.Value
		case e.Critical:
			return nil, fmt.Errorf("%w: unknown critical request extension %v", ErrMalformed, e.Id)
		}
	}
	for i, h := range hashes {
		if id.HashAlgorithm.Algorithm.Equal(h.oid) {
			r.HashAlgorithm, r.hashIndex = h.hash, i
		}
	}
	if r.hashIndex < 0 {
		return nil, ErrUnsupported
	}
	if len(id.IssuerNameHash) != r.HashAlgorithm.Size() || len(id.IssuerKeyHash) != r.HashAlgorithm.Size() {
		return nil, fmt.Errorf("%w: issuer hashes have the wrong length", ErrMalformed)
	}
	return r, nil
}

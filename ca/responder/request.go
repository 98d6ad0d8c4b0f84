package responder

import (
	"bytes"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certID is RFC 6960 §4.1.1's CertID, used to encode responses.
type certID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
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
	oid    asn1.ObjectIdentifier
	oidDER []byte // content octets of the OID
	hash   crypto.Hash
	name   string
}{
	{oidSHA1, oidContent(oidSHA1), crypto.SHA1, "sha1"},
	{oidSHA256, oidContent(oidSHA256), crypto.SHA256, "sha256"},
	{oidSHA384, oidContent(oidSHA384), crypto.SHA384, "sha384"},
	{oidSHA512, oidContent(oidSHA512), crypto.SHA512, "sha512"},
}

var oidNonceDER = oidContent(oidNonce)

// oidContent is the DER content (without tag and length) of an OID.
func oidContent(o asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(o)
	if err != nil {
		panic(err)
	}
	return b[2:]
}

// Request is a parsed OCSP request for one certificate.
type Request struct {
	HashAlgorithm  crypto.Hash // of the CertID: SHA-1, SHA-256, SHA-384 or SHA-512
	hashIndex      int         // into hashes
	IssuerNameHash []byte      // aliases the DER parsed
	IssuerKeyHash  []byte      // aliases the DER parsed
	SerialNumber   *big.Int    // positive, at most 20 octets
	// Nonce is the extnValue of the id-pkix-ocsp-nonce request extension
	// exactly as sent (RFC 8954), or nil.
	Nonce []byte
}

// MaxNonce is the longest nonce accepted, in octets (RFC 8954 §2.1: 1 to
// 32). The limit applies to the nonce itself: the OCTET STRING inside the
// extnValue when the client wraps it (as OpenSSL does), else the extnValue.
const MaxNonce = 32

// Parse errors. The responder answers ErrMalformed with malformedRequest
// and ErrUnsupported with unauthorized: it cannot tell whether a CertID
// hashed with an algorithm it does not know names its issuer.
var (
	ErrMalformed   = errors.New("responder: malformed request")
	ErrUnsupported = errors.New("responder: unsupported CertID hash algorithm")
)

// Context-specific constructed tags of the request syntax.
var (
	tag0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tag1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tag2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// ParseRequest parses a DER OCSPRequest (RFC 6960 §4.1.1) holding exactly
// one certificate request (RFC 5019 §2.1.1). Trailing data, an empty or
// longer requestList, a nonce outside 1..32 octets and unknown critical
// extensions (request or singleRequest level) are ErrMalformed; a CertID
// hash other than SHA-1/256/384/512 is ErrUnsupported. requestorName and
// optionalSignature are skipped: requests need no authentication.
//
// Unlike golang.org/x/crypto/ocsp.ParseRequest it keeps the extensions and
// sees every Request of the list. It walks the DER with cryptobyte
// (strict DER, like encoding/asn1) rather than encoding/asn1's reflection:
// this is the hottest path of the responder.
func ParseRequest(der []byte) (*Request, error) {
	in := cryptobyte.String(der)
	var req, tbs, list, one, id cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("not one DER OCSPRequest")
	}
	if !req.ReadASN1(&tbs, cbasn1.SEQUENCE) || !req.SkipOptionalASN1(tag0) || !req.Empty() {
		return nil, malformed("bad OCSPRequest")
	}
	var ver cryptobyte.String
	var hasVer, hasExts bool
	if !tbs.ReadOptionalASN1(&ver, &hasVer, tag0) {
		return nil, malformed("bad version")
	}
	if hasVer {
		var v int64
		if !ver.ReadASN1Integer(&v) || v != 0 || !ver.Empty() {
			return nil, malformed("unsupported version")
		}
	}
	var extsWrap cryptobyte.String
	if !tbs.SkipOptionalASN1(tag1) || !tbs.ReadASN1(&list, cbasn1.SEQUENCE) ||
		!tbs.ReadOptionalASN1(&extsWrap, &hasExts, tag2) || !tbs.Empty() {
		return nil, malformed("bad TBSRequest")
	}
	if !list.ReadASN1(&one, cbasn1.SEQUENCE) || !list.Empty() {
		return nil, malformed("want exactly one request")
	}
	var singleExts cryptobyte.String
	var hasSingleExts bool
	if !one.ReadASN1(&id, cbasn1.SEQUENCE) || !one.ReadOptionalASN1(&singleExts, &hasSingleExts, tag0) || !one.Empty() {
		return nil, malformed("bad Request")
	}
	r := &Request{hashIndex: -1}
	if hasSingleExts {
		if err := r.extensions(singleExts, false); err != nil {
			return nil, err
		}
	}
	if hasExts {
		if err := r.extensions(extsWrap, true); err != nil {
			return nil, err
		}
	}
	var alg, oid, name, key cryptobyte.String
	if !id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
		return nil, malformed("bad hash algorithm")
	}
	if !alg.Empty() { // parameters: absent or NULL
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !alg.Empty() {
			return nil, malformed("bad hash algorithm parameters")
		}
	}
	serial := new(big.Int)
	if !id.ReadASN1(&name, cbasn1.OCTET_STRING) || !id.ReadASN1(&key, cbasn1.OCTET_STRING) ||
		!id.ReadASN1Integer(serial) || !id.Empty() {
		return nil, malformed("bad CertID")
	}
	if serial.Sign() <= 0 || serial.BitLen() > 20*8 {
		return nil, malformed("serial number out of range")
	}
	r.IssuerNameHash, r.IssuerKeyHash, r.SerialNumber = name, key, serial
	for i, h := range hashes {
		if bytes.Equal(oid, h.oidDER) {
			r.HashAlgorithm, r.hashIndex = h.hash, i
		}
	}
	if r.hashIndex < 0 {
		return nil, ErrUnsupported
	}
	if len(name) != r.HashAlgorithm.Size() || len(key) != r.HashAlgorithm.Size() {
		return nil, malformed("issuer hashes have the wrong length")
	}
	return r, nil
}

// extensions reads an Extensions SEQUENCE: the nonce (request level only)
// is kept, other non-critical extensions ignored, critical ones refused.
func (r *Request) extensions(wrap cryptobyte.String, requestLevel bool) error {
	var exts cryptobyte.String
	if !wrap.ReadASN1(&exts, cbasn1.SEQUENCE) || !wrap.Empty() {
		return malformed("bad extensions")
	}
	for !exts.Empty() {
		var ext, oid, value cryptobyte.String
		var critical bool
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
			!ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) ||
			!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return malformed("bad extension")
		}
		switch {
		case requestLevel && bytes.Equal(oid, oidNonceDER):
			if r.Nonce != nil {
				return malformed("more than one nonce")
			}
			if n := nonceLen(value); n < 1 || n > MaxNonce {
				return malformed("nonce must be 1 to 32 octets")
			}
			r.Nonce = append([]byte(nil), value...)
		case critical:
			return malformed("unknown critical extension")
		}
	}
	return nil
}

// nonceLen is the length of the nonce in an extnValue: RFC 8954 wants an
// OCTET STRING there, OpenSSL sends one, but some clients put the raw
// octets in the extnValue. Like OpenSSL we take a value that is exactly one
// DER OCTET STRING as wrapped and anything else as raw.
func nonceLen(value []byte) int {
	v := cryptobyte.String(value)
	var inner cryptobyte.String
	if v.ReadASN1(&inner, cbasn1.OCTET_STRING) && v.Empty() {
		return len(inner)
	}
	return len(value)
}

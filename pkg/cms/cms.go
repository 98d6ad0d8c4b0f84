// Package cms signs and verifies CMS SignedData (RFC 5652).
//
// Verify proves one thing: each signer's certificate key signed these
// bytes. It does not validate the certificate (chain, validity, status,
// key usage, policy): that is the caller's, with the certificates Verify
// returns as untrusted intermediates. It checks that the input is DER (no
// indefinite lengths, no constructed strings, nothing after the
// ContentInfo), at most MaxSize bytes, SignedData with at least one
// signer; and for every signer, over exactly the bytes signed (the
// content, or the DER of the signed attributes as a SET, RFC 5652 §5.4),
// that one content-type attribute equals the encapsulated content type,
// one message-digest attribute matches the content, and the signature
// verifies. SHA-1 is refused. Verification is ours, not
// github.com/digitorus/pkcs7's: the library re-encodes the attributes
// before verifying, skips the content-type check, and refuses a signature
// whose claimed signing time falls outside the certificate's validity,
// which is a validation policy question, not a cryptographic one.
//
// Sign makes SignedData with the CAdES baseline signed attributes
// content-type, message-digest, signing-time and ESS
// signing-certificate-v2 (RFC 5035), with SHA-256 (SHA-384 for P-384
// keys), the signer's certificate and chain included.
package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	"github.com/digitorus/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors Verify and Sign wrap.
var (
	ErrMalformed   = errors.New("cms: malformed")
	ErrSignature   = errors.New("cms: signature does not verify")
	ErrUnsupported = errors.New("cms: unsupported algorithm")
	// ErrDigest is wrapped with ErrSignature when the message-digest
	// attribute does not match the content (the document was changed).
	ErrDigest = errors.New("message digest does not match the content")
	// ErrContentType is wrapped with ErrSignature when the content-type
	// signed attribute is missing, repeated or not the encapsulated
	// content type (RFC 5652 §11.1).
	ErrContentType = errors.New("content-type attribute missing, repeated or not the encapsulated type")
)

// MaxSize is the largest SignedData Verify accepts.
const MaxSize = 1 << 20

// OIDs of the attributes and content types used here.
var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA1                 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Signer is one verified SignerInfo.
type Signer struct {
	Certificate     *x509.Certificate // found among the SignedData certificates by issuer and serial
	SigningTime     time.Time         // the signingTime attribute: claimed by the signer, never proof
	DigestAlgorithm string            // "SHA-256", "SHA-384", "SHA-512"
	// Parse fills in the rest.
	Signature     []byte         // the signature value (what a signature timestamp covers)
	SigningCertV2 []byte         // the first ESSCertIDv2's SHA-256 certHash, if the attribute is there
	SignedAttrs   []string       // dotted OIDs of the signed attributes, in order
	Timestamps    [][]byte       // signature-time-stamp tokens (DER ContentInfo) in the unsigned attributes
	Err           error          // Parse only: why this signer failed (ErrSignature, ErrUnsupported, ErrMalformed), nil if it verified
	unsigned      []rawAttribute // the unsigned attributes as found
}

type rawAttribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue
}

// Signed is verified SignedData.
type Signed struct {
	digests map[crypto.Hash][]byte // ParseDigests: the document's digests instead of Content
	// OCSPResponses are the OCSP responses carried as revocation
	// information (RFC 5940 other revocation info, CAdES B-LT).
	OCSPResponses [][]byte
	// CRLs are the CRLs carried as revocation information (DER
	// CertificateList, RFC 5652 crls [1]).
	CRLs         [][]byte
	Content      []byte              // the encapsulated content, or the detached content given
	Detached     bool                // the SignedData carried no content
	Signers      []Signer            // every SignerInfo, each verified
	Certificates []*x509.Certificate // every certificate carried (untrusted)
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type encapInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signedDataHead struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	Encap            encapInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Verify parses DER SignedData and verifies every signer. With detached
// nil the content must be encapsulated; otherwise the SignedData must
// carry none and detached is the content.
func Verify(der []byte, detached []byte) (*Signed, error) {
	out, err := Parse(der, detached)
	if err != nil {
		return nil, err
	}
	for i, s := range out.Signers {
		if s.Err != nil {
			return nil, fmt.Errorf("signer %d: %w", i, s.Err)
		}
	}
	return out, nil
}

// Parse is Verify for validation: a structural problem is an error, but
// each signer's own failure is recorded in its Err, so a report can say
// which of several signatures failed and why.
func Parse(der []byte, detached []byte) (*Signed, error) {
	return parse(der, detached, nil)
}

// ParseDigests is Parse for a detached signature over a document known
// only by its digests (streamed, or registered by hash): digests maps a
// hash (crypto.SHA256, SHA384, SHA512) to the document's digest. A signer
// using a hash not given, or signing without signed attributes, fails
// with ErrUnsupported.
func ParseDigests(der []byte, digests map[crypto.Hash][]byte) (*Signed, error) {
	if len(digests) == 0 {
		return nil, errors.New("cms: no digests")
	}
	return parse(der, nil, digests)
}

func parse(der []byte, detached []byte, digests map[crypto.Hash][]byte) (*Signed, error) {
	if len(der) == 0 || len(der) > MaxSize {
		return nil, malformed("empty or larger than %d bytes", MaxSize)
	}
	if err := checkDER(der, 0); err != nil {
		return nil, malformed("not DER: %v", err)
	}
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		return nil, malformed("not a ContentInfo")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, malformed("content type %v is not SignedData", ci.ContentType)
	}
	var head signedDataHead
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil || len(rest) != 0 {
		return nil, malformed("not SignedData")
	}
	hasContent := len(head.Encap.EContent.FullBytes) > 0
	out := &Signed{Detached: detached != nil || digests != nil, digests: digests}
	switch {
	case digests != nil && hasContent:
		return nil, malformed("encapsulated content where a detached signature was expected")
	case digests != nil:
	case detached == nil && !hasContent:
		return nil, malformed("no encapsulated content and no detached content given")
	case detached != nil && hasContent:
		return nil, malformed("encapsulated content where detached content was expected")
	case hasContent:
		if rest, err := asn1.Unmarshal(head.Encap.EContent.Bytes, &out.Content); err != nil || len(rest) != 0 {
			return nil, malformed("eContent is not an OCTET STRING")
		}
	default:
		out.Content = detached
	}
	if len(head.Certificates.Bytes) > 0 {
		certs, err := x509.ParseCertificates(head.Certificates.Bytes)
		if err != nil {
			return nil, malformed("certificates: %v", err)
		}
		out.Certificates = certs
	}
	var infos []signerInfo
	if rest, err := asn1.UnmarshalWithParams(head.SignerInfos.FullBytes, &infos, "set"); err != nil || len(rest) != 0 {
		return nil, malformed("signerInfos")
	}
	if len(infos) == 0 {
		return nil, malformed("no signers")
	}
	out.OCSPResponses, out.CRLs = revocationInfo(head.CRLs.Bytes)
	for i := range infos {
		s, err := verifySigner(&infos[i], out, head.Encap.EContentType)
		s.Err = err
		s.Signature = infos[i].Signature
		if len(infos[i].UnsignedAttrs.FullBytes) > 0 {
			var ua []rawAttribute
			raw := append([]byte{0x31}, infos[i].UnsignedAttrs.FullBytes[1:]...)
			if rest, err := asn1.UnmarshalWithParams(raw, &ua, "set"); err != nil || len(rest) != 0 {
				s.Err = malformed("unsigned attributes")
			}
			s.unsigned = ua
			for _, a := range ua {
				if a.Type.Equal(oidSignatureTimeStamp) {
					var vals []asn1.RawValue
					if _, err := asn1.UnmarshalWithParams(a.Values.FullBytes, &vals, "set"); err == nil {
						for _, v := range vals {
							s.Timestamps = append(s.Timestamps, v.FullBytes)
						}
					}
				}
			}
		}
		out.Signers = append(out.Signers, s)
	}
	return out, nil
}

// OIDs of the CAdES attributes read here.
var oidSignatureTimeStamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

var (
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSA             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSAWithSHA384   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSAWithSHA512   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// verifySigner checks one SignerInfo over exactly the bytes it signed:
// the content, or the DER of its signed attributes with the SET tag
// (RFC 5652 §5.4), which must hold one content-type equal to the
// encapsulated type and one message digest of the content.
func verifySigner(si *signerInfo, sd *Signed, eContentType asn1.ObjectIdentifier) (Signer, error) {
	var s Signer
	var h crypto.Hash
	switch {
	case si.DigestAlgorithm.Algorithm.Equal(oidSHA256):
		s.DigestAlgorithm, h = "SHA-256", crypto.SHA256
	case si.DigestAlgorithm.Algorithm.Equal(oidSHA384):
		s.DigestAlgorithm, h = "SHA-384", crypto.SHA384
	case si.DigestAlgorithm.Algorithm.Equal(oidSHA512):
		s.DigestAlgorithm, h = "SHA-512", crypto.SHA512
	case si.DigestAlgorithm.Algorithm.Equal(oidSHA1):
		return s, fmt.Errorf("%w: SHA-1", ErrUnsupported)
	default:
		return s, fmt.Errorf("%w: digest %v", ErrUnsupported, si.DigestAlgorithm.Algorithm)
	}
	s.Certificate = findSigner(si.SID, sd.Certificates)
	if s.Certificate == nil {
		return s, malformed("the signer's certificate is not in the SignedData")
	}
	pss := si.SignatureAlgorithm.Algorithm.Equal(oidRSAPSS)
	var alg x509.SignatureAlgorithm
	if pss {
		if err := checkPSSParams(si.SignatureAlgorithm.Parameters.FullBytes, h); err != nil {
			return s, err
		}
	} else {
		var err error
		if alg, err = signatureAlgorithm(si.SignatureAlgorithm.Algorithm, h); err != nil {
			return s, err
		}
	}
	signed := sd.Content
	if len(si.SignedAttrs.FullBytes) > 0 {
		signed = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
		var attrs []attribute
		if rest, err := asn1.UnmarshalWithParams(signed, &attrs, "set"); err != nil || len(rest) != 0 || len(attrs) == 0 {
			return s, malformed("signed attributes")
		}
		if err := derSetOrder(si.SignedAttrs.Bytes, attrs); err != nil {
			return s, malformed("signed attributes: %v", err)
		}
		var ct asn1.ObjectIdentifier
		var md []byte
		nct, nmd := 0, 0
		for _, a := range attrs {
			switch {
			case a.Type.Equal(oidContentType):
				nct++
				if len(a.Values) != 1 {
					return s, malformed("content-type attribute")
				}
				if rest, err := asn1.Unmarshal(a.Values[0].FullBytes, &ct); err != nil || len(rest) != 0 {
					return s, malformed("content-type attribute")
				}
			case a.Type.Equal(oidMessageDigest):
				nmd++
				if len(a.Values) != 1 {
					return s, malformed("message-digest attribute")
				}
				if rest, err := asn1.Unmarshal(a.Values[0].FullBytes, &md); err != nil || len(rest) != 0 {
					return s, malformed("message-digest attribute")
				}
			case a.Type.Equal(oidSigningTime):
				var t time.Time
				if len(a.Values) == 1 {
					if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &t); err == nil {
						s.SigningTime = t.UTC()
					}
				}
			case a.Type.Equal(oidSigningCertificateV2):
				if len(a.Values) == 1 {
					in := cryptobyte.String(a.Values[0].FullBytes)
					var sc, certs, first cryptobyte.String
					if in.ReadASN1(&sc, cbasn1.SEQUENCE) && sc.ReadASN1(&certs, cbasn1.SEQUENCE) && certs.ReadASN1(&first, cbasn1.SEQUENCE) {
						s.SigningCertV2 = essCertHash(first)
					}
				}
			}
			s.SignedAttrs = append(s.SignedAttrs, a.Type.String())
		}
		if nct != 1 || !ct.Equal(eContentType) {
			return s, fmt.Errorf("%w: %w", ErrSignature, ErrContentType)
		}
		if nmd != 1 {
			return s, fmt.Errorf("%w: message-digest attribute missing or repeated", ErrSignature)
		}
		var sum []byte
		if sd.digests != nil {
			if sum = sd.digests[h]; sum == nil {
				return s, fmt.Errorf("%w: the document's %v digest is not known here", ErrUnsupported, h)
			}
		} else {
			d := h.New()
			d.Write(sd.Content)
			sum = d.Sum(nil)
		}
		if subtle.ConstantTimeCompare(sum, md) != 1 {
			return s, fmt.Errorf("%w: %w", ErrSignature, ErrDigest)
		}
	} else if !eContentType.Equal(oidData) {
		return s, malformed("signed attributes are required for content type %v", eContentType)
	} else if sd.digests != nil {
		return s, fmt.Errorf("%w: a signature without signed attributes needs the document itself", ErrUnsupported)
	}
	if pss {
		pub, ok := s.Certificate.PublicKey.(*rsa.PublicKey)
		if !ok {
			return s, fmt.Errorf("%w: RSASSA-PSS with a non-RSA key", ErrSignature)
		}
		d := h.New()
		d.Write(signed)
		if err := rsa.VerifyPSS(pub, h, d.Sum(nil), si.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
			return s, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return s, nil
	}
	if err := s.Certificate.CheckSignature(alg, signed, si.Signature); err != nil {
		if errors.Is(err, x509.ErrUnsupportedAlgorithm) {
			return s, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return s, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return s, nil
}

// findSigner finds the certificate a SignerIdentifier names: issuer and
// serial number, or [0] subject key identifier.
func findSigner(sid asn1.RawValue, certs []*x509.Certificate) *x509.Certificate {
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound {
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && string(c.SubjectKeyId) == string(sid.Bytes) {
				return c
			}
		}
		return nil
	}
	var ias issuerAndSerial
	if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) != 0 || ias.Serial == nil {
		return nil
	}
	for _, c := range certs {
		if c.SerialNumber.Cmp(ias.Serial) == 0 && string(c.RawIssuer) == string(ias.Issuer.FullBytes) {
			return c
		}
	}
	return nil
}

func signatureAlgorithm(oid asn1.ObjectIdentifier, h crypto.Hash) (x509.SignatureAlgorithm, error) {
	byHash := func(a256, a384, a512 x509.SignatureAlgorithm) x509.SignatureAlgorithm {
		switch h {
		case crypto.SHA384:
			return a384
		case crypto.SHA512:
			return a512
		}
		return a256
	}
	switch {
	case oid.Equal(oidECPublicKey):
		return byHash(x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512), nil
	case oid.Equal(oidECDSAWithSHA256) && h == crypto.SHA256:
		return x509.ECDSAWithSHA256, nil
	case oid.Equal(oidECDSAWithSHA384) && h == crypto.SHA384:
		return x509.ECDSAWithSHA384, nil
	case oid.Equal(oidECDSAWithSHA512) && h == crypto.SHA512:
		return x509.ECDSAWithSHA512, nil
	case oid.Equal(oidRSA):
		return byHash(x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA), nil
	case oid.Equal(oidRSAWithSHA256) && h == crypto.SHA256:
		return x509.SHA256WithRSA, nil
	case oid.Equal(oidRSAWithSHA384) && h == crypto.SHA384:
		return x509.SHA384WithRSA, nil
	case oid.Equal(oidRSAWithSHA512) && h == crypto.SHA512:
		return x509.SHA512WithRSA, nil
	case oid.Equal(oidEd25519):
		return x509.PureEd25519, nil
	}
	return 0, fmt.Errorf("%w: signature algorithm %v with %v", ErrUnsupported, oid, h)
}

// checkDER walks the TLV tree: every length definite and minimal (cryptobyte
// reads DER only), no constructed OCTET/BIT STRING, bounded depth.
func checkDER(b []byte, depth int) error {
	if depth > 32 {
		return errors.New("nested too deep")
	}
	s := cryptobyte.String(b)
	for !s.Empty() {
		var content cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&content, &tag) {
			return errors.New("bad element")
		}
		if tag == cbasn1.Tag(0x24) || tag == cbasn1.Tag(0x23) {
			return errors.New("constructed string")
		}
		if tag&0x20 != 0 {
			if err := checkDER(content, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

type essCertIDv2 struct {
	CertHash []byte // hashAlgorithm is DEFAULT sha256 and so omitted
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// Sign makes DER SignedData over content by key, whose certificate is
// cert; chain (issuer first) is included. detached leaves the content out.
// The signingTime attribute is the library's clock (now is used only to
// check the certificate's validity).
func Sign(content []byte, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, detached bool, now time.Time) ([]byte, error) {
	if cert == nil || key == nil {
		return nil, errors.New("cms: certificate and key are required")
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errors.New("cms: the certificate is not valid now")
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	digest := oidSHA256
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			digest = oidSHA384
		} else if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: curve %s", ErrUnsupported, k.Curve.Params().Name)
		}
	case *rsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("%w: key type %T", ErrUnsupported, k)
	}
	sd.SetDigestAlgorithm(digest)
	h := sha256.Sum256(cert.Raw)
	attr := pkcs7.Attribute{Type: oidSigningCertificateV2, Value: signingCertificateV2{Certs: []essCertIDv2{{CertHash: h[:]}}}}
	// AddSigner, not AddSignerChain: the latter re-verifies the chain's
	// signatures on every call; the chain goes in as plain certificates.
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: []pkcs7.Attribute{attr}}); err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	for _, c := range chain {
		sd.AddCertificate(c)
	}
	if detached {
		sd.Detach()
	}
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return der, nil
}

// essCertHash reads the SHA-256 certHash of an ESSCertIDv2 body (the
// default hash algorithm, or SHA-256 named; another algorithm gives nil).
func essCertHash(body []byte) []byte {
	in := cryptobyte.String(body)
	if in.PeekASN1Tag(cbasn1.SEQUENCE) {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !in.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSHA256) {
			return nil
		}
	}
	var h cryptobyte.String
	if !in.ReadASN1(&h, cbasn1.OCTET_STRING) {
		return nil
	}
	return []byte(h)
}

// AddTimestamp returns der with token (a DER time-stamp token over the
// signer's signature value) added to signer i's unsigned attributes as
// signature-time-stamp (CAdES B-T). Nothing else changes: the signed
// parts are copied byte for byte.
func AddTimestamp(der []byte, i int, token []byte) ([]byte, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 || !ci.ContentType.Equal(oidSignedData) {
		return nil, malformed("not SignedData")
	}
	var head signedDataHead
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil || len(rest) != 0 {
		return nil, malformed("not SignedData")
	}
	var infos []signerInfo
	if rest, err := asn1.UnmarshalWithParams(head.SignerInfos.FullBytes, &infos, "set"); err != nil || len(rest) != 0 {
		return nil, malformed("signerInfos")
	}
	if i < 0 || i >= len(infos) {
		return nil, fmt.Errorf("cms: no signer %d", i)
	}
	var attrs [][]byte
	if raw := infos[i].UnsignedAttrs.FullBytes; len(raw) > 0 {
		in := cryptobyte.String(infos[i].UnsignedAttrs.Bytes)
		for !in.Empty() {
			var a cryptobyte.String
			if !in.ReadASN1Element(&a, cbasn1.SEQUENCE) {
				return nil, malformed("unsigned attributes")
			}
			attrs = append(attrs, a)
		}
	}
	tsAttr, err := asn1.Marshal(struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}{oidSignatureTimeStamp, []asn1.RawValue{{FullBytes: token}}})
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, tsAttr)
	slices.SortFunc(attrs, bytes.Compare) // DER: SET OF in encoding order
	infos[i].UnsignedAttrs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: bytes.Join(attrs, nil)}
	var set []byte
	for _, si := range infos {
		b, err := asn1.Marshal(si)
		if err != nil {
			return nil, err
		}
		set = append(set, b...)
	}
	head.SignerInfos = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: set}
	body, err := asn1.Marshal(head)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: body}})
}

// Combine merges SignedData over the same content (all detached, or all
// carrying the same content) into one SignedData with every signer: the union of the digest
// algorithms and certificates, and each SignerInfo byte for byte, so every
// signature verifies as before (openssl cms -verify checks them all).
func Combine(sigs ...[]byte) ([]byte, error) {
	if len(sigs) == 0 {
		return nil, errors.New("cms: nothing to combine")
	}
	var algs, certs, infos [][]byte
	var encap encapInfo
	seen := map[string]bool{}
	addUnique := func(dst *[][]byte, b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			*dst = append(*dst, b)
		}
	}
	for i, der := range sigs {
		var ci contentInfo
		if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 || !ci.ContentType.Equal(oidSignedData) {
			return nil, malformed("signature %d is not SignedData", i)
		}
		var head signedDataHead
		if rest, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil || len(rest) != 0 {
			return nil, malformed("signature %d is not SignedData", i)
		}
		if !head.Encap.EContentType.Equal(oidData) {
			return nil, malformed("signature %d is not over data", i)
		}
		// Attached or detached, every signature must carry the same: the
		// same content, or none.
		if i == 0 {
			encap = head.Encap
		} else if !bytes.Equal(head.Encap.EContent.FullBytes, encap.EContent.FullBytes) {
			return nil, malformed("signature %d carries other content than the first", i)
		}
		for _, part := range []struct {
			raw []byte
			dst *[][]byte
		}{{head.DigestAlgorithms.Bytes, &algs}, {head.Certificates.Bytes, &certs}, {head.SignerInfos.Bytes, &infos}} {
			in := cryptobyte.String(part.raw)
			for !in.Empty() {
				var el cryptobyte.String
				var tag cbasn1.Tag
				if !in.ReadAnyASN1Element(&el, &tag) {
					return nil, malformed("signature %d: bad element", i)
				}
				addUnique(part.dst, el)
			}
		}
	}
	slices.SortFunc(algs, bytes.Compare)
	slices.SortFunc(certs, bytes.Compare)
	set := func(els [][]byte) asn1.RawValue {
		return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(els, nil)}
	}
	version := 1
	head := signedDataHead{Version: version, DigestAlgorithms: set(algs), Encap: encap,
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(certs, nil)},
		SignerInfos:  set(infos)}
	body, err := asn1.Marshal(head)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: body}})
}

// derSetOrder checks what DER demands of the signed attributes, which are
// signed as encoded: the SET OF elements in ascending order of their
// encodings, and (RFC 5652 §5.3) no attribute type twice.
func derSetOrder(body []byte, attrs []attribute) error {
	in := cryptobyte.String(body)
	var prev []byte
	for !in.Empty() {
		var el cryptobyte.String
		if !in.ReadASN1Element(&el, cbasn1.SEQUENCE) {
			return errors.New("not a SET OF Attribute")
		}
		if prev != nil && bytes.Compare(prev, el) > 0 {
			return errors.New("not in DER order")
		}
		prev = el
	}
	for i := range attrs {
		for j := i + 1; j < len(attrs); j++ {
			if attrs[i].Type.Equal(attrs[j].Type) {
				return fmt.Errorf("attribute %v twice", attrs[i].Type)
			}
		}
	}
	return nil
}

var oidRIOCSPResponse = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 16, 2}

// revocationInfo reads a RevocationInfoChoices body: the CRLs
// (CertificateList, a SEQUENCE) and the [1] OtherRevocationInfoFormat
// entries of type id-ri-ocsp-response.
func revocationInfo(body []byte) (responses, crls [][]byte) {
	in := cryptobyte.String(body)
	for !in.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !in.ReadAnyASN1Element(&el, &tag) {
			return responses, crls
		}
		if tag == cbasn1.SEQUENCE {
			crls = append(crls, []byte(el))
			continue
		}
		var other cryptobyte.String
		if tag != cbasn1.Tag(1).Constructed().ContextSpecific() || !el.ReadASN1(&other, tag) {
			continue
		}
		var oid asn1.ObjectIdentifier
		if !other.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidRIOCSPResponse) {
			continue
		}
		var resp cryptobyte.String
		if other.ReadASN1Element(&resp, cbasn1.SEQUENCE) {
			responses = append(responses, []byte(resp))
		}
	}
	return responses, crls
}

// AddOCSPResponses returns der with the OCSP responses added to the
// SignedData's revocation information (RFC 5940, CAdES B-LT); see
// AddRevocationInfo.
func AddOCSPResponses(der []byte, responses ...[]byte) ([]byte, error) {
	return AddRevocationInfo(der, nil, responses)
}

// AddRevocationInfo returns der with the CRLs (DER CertificateList) and
// OCSP responses (RFC 5940 other revocation information) added to the
// SignedData's revocation information (RFC 5652 crls, CAdES B-LT), and
// the SignedData's version raised to 5 when it carries other revocation
// information (RFC 5652 §5.1). Signer infos, content and certificates are
// copied byte for byte.
func AddRevocationInfo(der []byte, crls, responses [][]byte) ([]byte, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 || !ci.ContentType.Equal(oidSignedData) {
		return nil, malformed("not SignedData")
	}
	var head signedDataHead
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil || len(rest) != 0 {
		return nil, malformed("not SignedData")
	}
	body := bytes.Clone(head.CRLs.Bytes)
	for _, c := range crls {
		if _, err := x509.ParseRevocationList(c); err != nil {
			return nil, malformed("not a CRL: %v", err)
		}
		body = append(body, c...)
	}
	for _, r := range responses {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidRIOCSPResponse)
			b.AddBytes(r)
		})
		el, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		body = append(body, el...)
	}
	if len(body) == 0 {
		return der, nil
	}
	head.CRLs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: body}
	if ocsp, _ := revocationInfo(body); len(ocsp) > 0 {
		head.Version = 5
	}
	out, err := asn1.Marshal(head)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: out}})
}

var (
	oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
)

// checkPSSParams reads RSASSA-PSS-params (RFC 4055): the hash and the
// MGF1 hash must be the signer's digest algorithm (SHA-1 defaults are
// refused). The salt length is whatever the signature carries.
func checkPSSParams(der []byte, h crypto.Hash) error {
	var p struct {
		Hash    pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
		MGF     pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
		Salt    int                      `asn1:"explicit,optional,tag:2,default:20"`
		Trailer int                      `asn1:"explicit,optional,tag:3,default:1"`
	}
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) != 0 {
		return malformed("RSASSA-PSS parameters")
	}
	want := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512}[h]
	var mgfHash pkix.AlgorithmIdentifier
	if len(p.MGF.Parameters.FullBytes) > 0 {
		if _, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mgfHash); err != nil {
			return malformed("RSASSA-PSS MGF parameters")
		}
	}
	if !p.Hash.Algorithm.Equal(want) || !p.MGF.Algorithm.Equal(oidMGF1) || !mgfHash.Algorithm.Equal(want) || p.Trailer != 1 {
		return fmt.Errorf("%w: RSASSA-PSS parameters other than %v with MGF1", ErrUnsupported, h)
	}
	return nil
}

// pssSigner makes an RSA key sign with RSASSA-PSS (salt the length of the
// hash), for SignPSS.
type pssSigner struct{ crypto.Signer }

func (p pssSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return p.Signer.Sign(r, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: opts.HashFunc()})
}

// SignPSS is Sign with RSASSA-PSS (RFC 4056: SHA-256, MGF1 with SHA-256,
// salt of 32 octets) for an RSA key. The library signs through a PSS
// signer; the SignerInfo's signatureAlgorithm is then set to
// id-RSASSA-PSS with its parameters (it is not among the signed bytes).
func SignPSS(content []byte, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, detached bool, now time.Time) ([]byte, error) {
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: PSS needs an RSA key", ErrUnsupported)
	}
	der, err := Sign(content, cert, chain, pssSigner{key}, detached, now)
	if err != nil {
		return nil, err
	}
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, err
	}
	var head signedDataHead
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &head); err != nil {
		return nil, err
	}
	var infos []signerInfo
	if _, err := asn1.UnmarshalWithParams(head.SignerInfos.FullBytes, &infos, "set"); err != nil || len(infos) != 1 {
		return nil, malformed("signerInfos")
	}
	sha256ID := pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
	mgfParams, _ := asn1.Marshal(sha256ID)
	params, err := asn1.Marshal(struct {
		Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
		MGF  pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
		Salt int                      `asn1:"explicit,tag:2"`
	}{sha256ID, pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mgfParams}}, 32})
	if err != nil {
		return nil, err
	}
	infos[0].SignatureAlgorithm = pkix.AlgorithmIdentifier{Algorithm: oidRSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
	b, err := asn1.Marshal(infos[0])
	if err != nil {
		return nil, err
	}
	head.SignerInfos = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: b}
	body, err := asn1.Marshal(head)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: body}})
}

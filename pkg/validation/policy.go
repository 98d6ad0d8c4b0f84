package validation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Level is what a failed constraint does to the indication.
type Level string

// Levels, as ETSI EN 319 102-1 validation policies name them.
const (
	Fail   Level = "FAIL"   // a failure decides the indication
	Warn   Level = "WARN"   // reported as a warning
	Inform Level = "INFORM" // reported as information
	Ignore Level = "IGNORE" // not checked
)

// Constraints a policy can set.
const (
	CFormat             = "format"              // parsable DER CMS SignedData, one eContent or the detached document
	CContentType        = "content_type"        // content-type signed attribute equal to the encapsulated type
	CMessageDigest      = "message_digest"      // message-digest attribute matches the document
	CSignature          = "signature"           // the signature value verifies with the signer's key
	CSigningCertRef     = "signing_certificate" // signing-certificate-v2 present and naming the signer's certificate
	CChain              = "chain"               // the signer's certificate chains to a trust anchor
	CKeyUsage           = "key_usage"           // digitalSignature or nonRepudiation
	CValidity           = "validity"            // the certificate valid at the best signature time
	CRevocation         = "revocation"          // not revoked before the best signature time (status known)
	CSigningTime        = "signing_time"        // signingTime attribute present (claimed, never proof)
	CSignatureTimeStamp = "signature_timestamp" // a valid signature time-stamp present
	CAlgorithm          = "algorithm"           // digest and key strong enough (no SHA-1, RSA >= 2048)
	CLoginStatement     = "login_statement"     // the signed content is not a login statement (checked and reported when it is)
)

// loginStatementDetail is the login_statement check's failure, in words.
const loginStatementDetail = "this is a login statement, not a document: it proves a login to a service, and is never a document signature"

var allConstraints = []string{CFormat, CContentType, CMessageDigest, CSignature, CSigningCertRef, CChain, CKeyUsage,
	CValidity, CRevocation, CSigningTime, CSignatureTimeStamp, CAlgorithm, CLoginStatement}

// Policy is a validation policy held as data (configs/validation-policy.yaml).
type Policy struct {
	Name        string           `yaml:"name"`
	Constraints map[string]Level `yaml:"constraints"`
}

// ParsePolicy reads a YAML policy; unknown keys, constraints and levels
// are errors, and every constraint must be set.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("validation policy: %w", err)
	}
	if p.Name == "" {
		return nil, errors.New("validation policy: name is required")
	}
	for c, l := range p.Constraints {
		if !slices.Contains(allConstraints, c) {
			return nil, fmt.Errorf("validation policy: unknown constraint %q", c)
		}
		switch l {
		case Fail, Warn, Inform, Ignore:
		default:
			return nil, fmt.Errorf("validation policy: %s: level %q is not FAIL, WARN, INFORM or IGNORE", c, l)
		}
	}
	for _, c := range allConstraints {
		if _, ok := p.Constraints[c]; !ok {
			return nil, fmt.Errorf("validation policy: constraint %q is not set", c)
		}
	}
	return &p, nil
}

func (p *Policy) level(c string) Level {
	if l, ok := p.Constraints[c]; ok {
		return l
	}
	return Fail
}

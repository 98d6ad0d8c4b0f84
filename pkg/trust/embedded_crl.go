package trust

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Embedded is the status the revocation data carried in a signature
// gives (CAdES B-LT: RFC 5940 OCSP responses and CRLs): an OCSP response
// when one answers (EmbeddedOCSP), else a CRL (EmbeddedCRL).
type Embedded struct {
	Responses [][]byte // DER OCSPResponse
	CRLs      [][]byte // DER CertificateList
	NotBefore time.Time
}

// Status implements StatusSource.
func (e Embedded) Status(ctx context.Context, cert, issuer *x509.Certificate) (Status, error) {
	if st, err := (EmbeddedOCSP{Responses: e.Responses, NotBefore: e.NotBefore}).Status(ctx, cert, issuer); err == nil {
		return st, nil
	}
	return EmbeddedCRL{CRLs: e.CRLs, NotBefore: e.NotBefore}.Status(ctx, cert, issuer)
}

// EmbeddedCRL is the status the CRLs carried in a signature give: the
// first CRL signed by the certificate's issuer that was still current at
// NotBefore (the best signature time: its nextUpdate is not earlier) and
// whose scope covers the certificate. A CRL with an issuing distribution
// point covers the certificates that name that point and of the kind it
// says (user or CA certificates); an indirect CRL, one limited to some
// reasons, or a delta CRL is not used. Listed on hold is Suspended,
// listed otherwise Revoked, not listed Good.
type EmbeddedCRL struct {
	CRLs      [][]byte // DER CertificateList
	NotBefore time.Time
}

var (
	oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidDeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
)

// Status implements StatusSource.
func (e EmbeddedCRL) Status(_ context.Context, cert, issuer *x509.Certificate) (Status, error) {
	for _, der := range e.CRLs {
		rl, err := x509.ParseRevocationList(der)
		if err != nil || rl.CheckSignatureFrom(issuer) != nil || !rl.NextUpdate.IsZero() && rl.NextUpdate.Before(e.NotBefore) ||
			!crlCovers(rl, cert) {
			continue
		}
		for _, entry := range rl.RevokedCertificateEntries {
			if entry.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				continue
			}
			st := Status{State: Revoked, Reason: Reason(entry.ReasonCode), Time: entry.RevocationTime.UTC(), Source: SourceEmbeddedCRL}
			if st.Reason == ReasonCertificateHold {
				st.State = Suspended
			}
			return st, nil
		}
		return Status{State: Good, Source: SourceEmbeddedCRL}, nil
	}
	return Status{State: Unavailable}, ErrNoEmbeddedStatus
}

// crlCovers says whether rl is a complete CRL whose scope holds cert.
func crlCovers(rl *x509.RevocationList, cert *x509.Certificate) bool {
	for _, ext := range rl.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndicator):
			return false
		case ext.Id.Equal(oidIssuingDistributionPoint):
			return idpCovers(ext.Value, cert)
		}
	}
	return true
}

// idpCovers reads an IssuingDistributionPoint (RFC 5280 §5.2.5): the CRL
// covers cert when a full-name URI of its distribution point is one of
// the certificate's CRL distribution points (or it names none), it is
// limited to neither reasons nor attribute certificates, is not indirect,
// and its user/CA restriction fits the certificate.
func idpCovers(der []byte, cert *x509.Certificate) bool {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return false
	}
	var dp cryptobyte.String
	var hasDP bool
	if !seq.ReadOptionalASN1(&dp, &hasDP, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return false
	}
	onlyUser, onlyCA := readIDPFlag(&seq, 1), readIDPFlag(&seq, 2)
	if !seq.Empty() { // onlySomeReasons, indirectCRL, onlyContainsAttributeCerts
		return false
	}
	if onlyUser && cert.IsCA || onlyCA && !cert.IsCA {
		return false
	}
	if !hasDP {
		return true
	}
	var names cryptobyte.String
	if !dp.ReadASN1(&names, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return false // nameRelativeToCRLIssuer
	}
	for !names.Empty() {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&name, &tag) {
			return false
		}
		if tag == cbasn1.Tag(6).ContextSpecific() && slices.Contains(cert.CRLDistributionPoints, string(name)) {
			return true
		}
	}
	return false
}

// readIDPFlag reads the optional [tag] BOOLEAN of an
// IssuingDistributionPoint; absent is false. A malformed one reads as
// true, which narrows the scope.
func readIDPFlag(s *cryptobyte.String, tag uint8) bool {
	var v cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&v, &present, cbasn1.Tag(tag).ContextSpecific()) {
		return true
	}
	return present && !(len(v) == 1 && v[0] == 0)
}

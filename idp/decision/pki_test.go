package decision_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/trust"
)

// People of the tests, by PINFL.
const (
	pinflA        = "41111111111111"
	pinflB        = "42222222222222"
	pinflC        = "43333333333333"
	pinflStranger = "44444444444444"
	pinflDirector = "45555555555555" // holds "Direktor" at orgTIN
	pinflRevoked  = "46666666666666"
	pinflExpired  = "47777777777777" // certificate expired before t0
	pinflForeign  = "48888888888888" // certificate from an untrusted CA
	pinflP384     = "49999999999999" // signs with SHA-384
	orgTIN        = "201234567"
)

// holder is a certificate with its key.
type holder struct {
	cert    *x509.Certificate
	issuing *x509.Certificate
	key     crypto.Signer
}

// pki is the test CA, a foreign CA and the officials' certificates.
type pki struct {
	root, issuing *x509.Certificate
	people        map[string]holder
	revokedSerial string
}

var testPKI = sync.OnceValues(newPKI)

func newPKI() (*pki, error) {
	var serial int64
	mk := func(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
		serial++
		tmpl.SerialNumber = big.NewInt(1000 + serial)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	ca := func(name string) (root, issuing *x509.Certificate, key crypto.Signer, err error) {
		rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		rt := &x509.Certificate{Subject: pkix.Name{CommonName: name + " Root"}, NotBefore: t0.AddDate(-5, 0, 0), NotAfter: t0.AddDate(10, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		if root, err = mk(rt, rt, &rk.PublicKey, rk); err != nil {
			return nil, nil, nil, err
		}
		it := &x509.Certificate{Subject: pkix.Name{CommonName: name + " Issuing"}, NotBefore: t0.AddDate(-5, 0, 0), NotAfter: t0.AddDate(5, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		issuing, err = mk(it, root, &ik.PublicKey, rk)
		return root, issuing, ik, err
	}
	p := &pki{people: map[string]holder{}}
	var caKey crypto.Signer
	var err error
	if p.root, p.issuing, caKey, err = ca("Yagona Test"); err != nil {
		return nil, err
	}
	_, foreignIssuing, foreignKey, err := ca("Foreign")
	if err != nil {
		return nil, err
	}
	for _, pinfl := range []string{pinflA, pinflB, pinflC, pinflStranger, pinflDirector, pinflRevoked, pinflExpired, pinflForeign, pinflP384} {
		curve := elliptic.P256()
		if pinfl == pinflP384 {
			curve = elliptic.P384()
		}
		key, _ := ecdsa.GenerateKey(curve, rand.Reader)
		tmpl := &x509.Certificate{NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(1, 0, 0),
			Subject:  pkix.Name{CommonName: "Official " + pinfl, SerialNumber: "PNOUZ-" + pinfl, Country: []string{"UZ"}},
			KeyUsage: x509.KeyUsageContentCommitment}
		if pinfl == pinflExpired {
			tmpl.NotAfter = t0.Add(-time.Hour)
		}
		if pinfl == pinflDirector {
			tmpl.Subject.Organization = []string{"Toshkent shahar hokimligi"}
			tmpl.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: ident.OIDOrganizationIdentifier, Value: "NTRUZ-" + orgTIN},
				{Type: ident.OIDTitle, Value: "Direktor"}}
		}
		parent, signer := p.issuing, caKey
		if pinfl == pinflForeign {
			parent, signer = foreignIssuing, foreignKey
		}
		c, err := mk(tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return nil, err
		}
		p.people[pinfl] = holder{cert: c, issuing: parent, key: key}
	}
	p.revokedSerial = p.people[pinflRevoked].cert.SerialNumber.Text(16)
	return p, nil
}

// sign makes a detached CAdES signature by pinfl's key over doc, as at
// the certificate's last valid moment before t0 or at t0.
func (p *pki) sign(t *testing.T, pinfl string, doc []byte) []byte {
	t.Helper()
	h := p.people[pinfl]
	at := t0
	if at.After(h.cert.NotAfter) {
		at = h.cert.NotAfter.Add(-time.Minute)
	}
	der, err := cms.Sign(doc, h.cert, []*x509.Certificate{h.issuing}, h.key, true, at)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// statuses is the CA's status source: one certificate is revoked.
type statuses struct{ revoked string }

func (s statuses) Status(_ context.Context, c, _ *x509.Certificate) (trust.Status, error) {
	if c.SerialNumber.Text(16) == s.revoked {
		return trust.Status{State: trust.Revoked, Time: t0.AddDate(0, -1, 0), Source: "test"}, nil
	}
	return trust.Status{State: trust.Good, Source: "test"}, nil
}

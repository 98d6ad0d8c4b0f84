package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/yagona/yagona/ca/responder"
)

// The root's status publication (docs/ca.md, "Revocation of the CA
// certificates"): a CRL of the CAs the root certified (an ARL, RFC 5280
// §5 with no issuingDistributionPoint: it is complete for the root) and the
// root's OCSP answers for the issuing CA. Both need the root key, which is
// off line by design, so they are made only where the root key is used:
// when the issuing CA is certified (first start, ceremony) and on a start
// with the root key reachable once half of their validity has passed. The
// server only serves them.
const (
	arlFile     = "root.crl"      // DER
	answersFile = "root-ocsp.pem" // PEM "OCSP RESPONSE" blocks, one per CertID hash
)

// RootStatus is the root's published status of the CAs it certified.
type RootStatus struct {
	ARL     []byte   // DER CRL signed by the root
	Answers [][]byte // DER OCSP responses for the issuing CA, signed by the root
	// ThisUpdate and NextUpdate are the ARL's; the answers have the same.
	ThisUpdate, NextUpdate time.Time
}

// due reports whether s must be remade at now for the issuing CA iss.
func (s *RootStatus) due(now time.Time, iss *x509.Certificate) bool {
	if s == nil || len(s.ARL) == 0 || len(s.Answers) == 0 || !s.covers(iss) {
		return true
	}
	return !now.Before(s.ThisUpdate.Add(s.NextUpdate.Sub(s.ThisUpdate) / 2))
}

// covers reports whether the answers are for iss.
func (s *RootStatus) covers(iss *x509.Certificate) bool {
	for _, der := range s.Answers {
		if sn, err := responder.AnswerSerial(der); err == nil && sn.Cmp(iss.SerialNumber) == 0 {
			return true
		}
	}
	return false
}

// makeRootStatus signs an empty ARL and the issuing CA's good answers with
// the root key, valid for validity from now, and lints the ARL.
func makeRootStatus(l *Linter, root, iss *x509.Certificate, rootKey crypto.Signer, now time.Time, validity time.Duration) (*RootStatus, error) {
	now = now.UTC().Truncate(time.Second)
	next := now.Add(validity)
	// The number only has to grow: the root has no store, the clock does.
	arl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(now.Unix()), ThisUpdate: now, NextUpdate: next,
	}, root, rootKey)
	if err != nil {
		return nil, fmt.Errorf("ca: root CRL: %w", err)
	}
	if l != nil {
		if err := l.CRL(arl); err != nil {
			return nil, fmt.Errorf("ca: root CRL: %w", err)
		}
	}
	answers, err := responder.SignIssuerAnswers(root, rootKey, iss, responder.CertStatus{Status: responder.Good}, now, next)
	if err != nil {
		return nil, fmt.Errorf("ca: root OCSP answers: %w", err)
	}
	return &RootStatus{ARL: arl, Answers: answers, ThisUpdate: now, NextUpdate: next}, nil
}

func writeRootStatus(dir string, s *RootStatus) error {
	var pems []byte
	for _, a := range s.Answers {
		pems = append(pems, pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: a})...)
	}
	for name, b := range map[string][]byte{arlFile: s.ARL, answersFile: pems} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
			return fmt.Errorf("ca: %w", err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return fmt.Errorf("ca: %w", err)
		}
	}
	return nil
}

// readRootStatus reads the root's status files from dir; both missing is
// os.ErrNotExist.
func readRootStatus(dir string, root *x509.Certificate) (*RootStatus, error) {
	arl, err := os.ReadFile(filepath.Join(dir, arlFile))
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(arl)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", arlFile, err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("ca: %s is not signed by the root: %w", arlFile, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, answersFile))
	if err != nil {
		return nil, err
	}
	s := &RootStatus{ARL: arl, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		s.Answers = append(s.Answers, block.Bytes)
	}
	return s, nil
}

// rootStatus loads the root's status publication, remaking it when it is
// due and the root key is reachable; without the root key a due
// publication is kept (and a missing one stays missing) with a warning.
func rootStatus(cfg HierarchyConfig, root, iss *x509.Certificate) (*RootStatus, error) {
	cur, err := readRootStatus(cfg.CertDir, root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	now := cfg.Now()
	if !cur.due(now, iss) {
		return cur, nil
	}
	if !rootKeyHere(cfg) {
		cfg.Logger.Warn("the root's CRL and OCSP answers for the issuing CA are due, and the root key is not here: run the root-key step (docs/operations.md)",
			"next_update", nextOf(cur))
		return cur, nil
	}
	rootKey, err := cfg.Keys.Load(cfg.RootKey)
	if err != nil {
		return nil, fmt.Errorf("ca: root key (to sign the root's CRL): %w", err)
	}
	s, err := makeRootStatus(cfg.Linter, root, iss, rootKey, now, cfg.ARLValidity)
	if err != nil {
		return nil, err
	}
	if err := writeRootStatus(cfg.CertDir, s); err != nil {
		return nil, err
	}
	cfg.Logger.Info("signed the root's CRL and OCSP answers for the issuing CA", "next_update", s.NextUpdate)
	return s, nil
}

func nextOf(s *RootStatus) time.Time {
	if s == nil {
		return time.Time{}
	}
	return s.NextUpdate
}

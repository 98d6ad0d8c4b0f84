package ca

import (
	"fmt"
	"sort"
	"strings"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// LintSources are the zlint rule sets every certificate and CRL passes
// before it is signed: RFC 5280 and the algorithm RFCs it builds on, and
// ETSI EN 319 412. The CA/Browser Forum sets are left out on purpose: they
// govern publicly-trusted TLS and S/MIME certificates, and apply rules (such
// as requiring a subjectAltName) that personal signing certificates must not
// follow. docs/performance.md measures the cost.
var LintSources = lint.SourceList{lint.RFC5280, lint.RFC5480, lint.RFC3279, lint.EtsiEsi}

// Linter runs a fixed zlint registry.
type Linter struct {
	reg lint.Registry
}

// NewLinter builds a linter over LintSources, leaving out the lints named in
// exclude (each exclusion should be documented by the operator).
func NewLinter(exclude []string) (*Linter, error) {
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{
		IncludeSources: LintSources,
		ExcludeNames:   exclude,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: lint registry: %w", err)
	}
	return &Linter{reg: reg}, nil
}

// LintError lists the error- and fatal-level findings that refused a
// certificate or CRL.
type LintError struct {
	Findings []string // "lint_name: details"
}

func (e *LintError) Error() string {
	return "ca: lint: " + strings.Join(e.Findings, "; ")
}

// Certificate lints a DER certificate.
func (l *Linter) Certificate(der []byte) error {
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("ca: lint: parse certificate: %w", err)
	}
	return findings(zlint.LintCertificateEx(c, l.reg))
}

// CRL lints a DER CRL.
func (l *Linter) CRL(der []byte) error {
	c, err := zx509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("ca: lint: parse crl: %w", err)
	}
	return findings(zlint.LintRevocationListEx(c, l.reg))
}

func findings(rs *zlint.ResultSet) error {
	if !rs.ErrorsPresent && !rs.FatalsPresent {
		return nil
	}
	var out []string
	for name, r := range rs.Results {
		if r.Status == lint.Error || r.Status == lint.Fatal {
			out = append(out, name+": "+r.Details)
		}
	}
	sort.Strings(out)
	return &LintError{Findings: out}
}

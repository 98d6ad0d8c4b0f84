package ca

import (
	"maps"
	"slices"
	"time"

	"github.com/zmap/zlint/v3/lint"
)

// TLSLintExclusions are the CA/Browser Forum Baseline Requirements lints
// the server's own TLS certificate does not pass, each with the reason it
// is left out. docs/profiles.md repeats the list; a new finding fails
// TestTLSCertificateBaselineRequirements.
var TLSLintExclusions = map[string]string{
	"w_subject_common_name_included": "the common name repeats the first tls_hosts entry: " +
		"operator tools, logs and older clients that show only the subject name it",
	"w_ext_subject_key_identifier_not_recommended_subscriber": "RFC 5280 §4.2.1.2 says end-entity certificates " +
		"should carry it, and every certificate the CA makes does, so path builders find keys the same way",
}

// TLSDevLintExclusions are the lints left out for the development
// configuration only (tls_hosts localhost and 127.0.0.1, URLs on
// 127.0.0.1): no publicly-trusted CA could certify these names.
var TLSDevLintExclusions = map[string]string{
	"e_ext_san_contains_reserved_ip":         "127.0.0.1 is a loopback address; the development server listens on it",
	"e_dnsname_not_valid_tld":                "localhost is not under a public top-level domain; the development server is reached by it",
	"w_sub_cert_aia_contains_internal_names": "the development public_url is http://127.0.0.1:8080, an internal name",
}

// TLSLintSources are the zlint rule sets for the TLS certificate: the
// RFC 5280 and ETSI sets of LintSources, and the CA/Browser Forum Baseline
// Requirements.
var TLSLintSources = append(slices.Clone(LintSources), lint.CABFBaselineRequirements)

// TLSLintExcluded returns the names of TLSLintExclusions, and of
// TLSDevLintExclusions when dev is set, sorted.
func TLSLintExcluded(dev bool) []string {
	names := slices.Collect(maps.Keys(TLSLintExclusions))
	if dev {
		names = slices.AppendSeq(names, maps.Keys(TLSDevLintExclusions))
	}
	slices.Sort(names)
	return names
}

// DefaultTLSCertValidity is the TLS certificate's validity when none is
// configured: 198 days, so that with NotBefore backdated it stays under
// the Baseline Requirements' 199-day warning.
const DefaultTLSCertValidity = 198 * 24 * time.Hour

// MaxTLSCertValidity is the longest TLS certificate validity a
// configuration may ask for: the Baseline Requirements' 200 days for a
// certificate issued from 15 March 2026.
const MaxTLSCertValidity = 200 * 24 * time.Hour

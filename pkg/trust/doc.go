// Package trust is Yagona's one trust component: which certificate
// authorities are trusted (anchors), how a certificate is chained to one of
// them (the chain builder), what a certificate may be used for (purposes),
// what its revocation status is (Status, from a StatusSource) and what
// that status means for each use (the status table). Login, service and
// holder TLS client authentication, signature and time-stamp validation and
// the command line ask this package; no other package in the tree calls
// crypto/x509's Verify.
//
// # Scope
//
// The package is a library: it knows no service, fetches nothing over the
// network and reads no clock. Every verification takes the time to verify
// at. Status sources are plugged in by their owners: our own CA's records
// (package ca), an external CA's OCSP responder (pkg/revocation), the OCSP
// responses a signature carries (EmbeddedOCSP, here).
//
// # Standards
//
// Path validation is RFC 5280 §6 as crypto/x509 implements it (names,
// validity, basic constraints, key usage of the issuers, extended key usage
// nesting). Statuses follow RFC 5280 §5.3.1 (CRL reasons; certificateHold
// is a suspension) and RFC 6960 (OCSP certStatus good, revoked, unknown).
// Time-stamping certificates follow RFC 3161 §2.3 (exactly one extended key
// usage, id-kp-timeStamping), OCSP signing certificates RFC 6960 §4.2.2.2
// (id-kp-OCSPSigning).
//
// # The fast path
//
// A Verifier checks each anchor's intermediates against its root once,
// when it is made. A leaf is then verified against those pre-verified
// intermediates directly, their validity and the root's checked at the time
// asked: this saves the root's signature check (ECDSA P-384 in production,
// ten P-256 verifications' worth) on every login. Intermediates a client
// sends are untrusted and take the full path to the root.
package trust

// Package server assembles Yagona's service from its configuration
// (internal/config): storage and cache, keys, the CA hierarchy, the
// certificate authority and its OCSP responder and TSA, the transparency
// log, signature validation, decisions and the OpenID provider, their
// HTTP routes on the HTTPS and plain HTTP listeners, readiness, metrics
// and the periodic jobs. Only cmd/yagona (and tests) import it. It
// passes each consumer objects that satisfy the interfaces the consumer
// declares (operator credentials to idp and ca/api, the provider's token
// verifier to decisions and, adapted, to ca/api); policy stays with the
// consumer. The status adapters for our own CA (ownStatus, ownRecords)
// are the last pieces the trust component (pkg/trust) takes over.
package server

// Package server assembles Yagona's service from its configuration
// (internal/config): storage and cache, keys, the CA hierarchy, the
// certificate authority and its OCSP responder and TSA, the transparency
// log, signature validation, decisions and the OpenID provider, their
// HTTP routes on the HTTPS and plain HTTP listeners, readiness, metrics
// and the periodic jobs. Only cmd/yagona (and tests) import it; it
// passes each consumer objects that satisfy the interfaces the consumer
// declares, and nothing calls back into it.
package server

// Package configs embeds Yagona's configuration files: dev.yaml is the
// default `yagona serve` runs on, production.yaml the example for
// PostgreSQL and Redis, validation-policy.yaml the default signature
// validation policy.
package configs

import "embed"

// Files holds every *.yaml file of this directory.
//
//go:embed *.yaml
var Files embed.FS

// Default is the name of the embedded default configuration.
const Default = "dev.yaml"

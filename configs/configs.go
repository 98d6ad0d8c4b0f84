// Package configs embeds Yagona's configuration files: dev.yaml is the
// default `yagona serve` runs on, production.yaml the example for
// PostgreSQL and Redis, validation-policy.yaml the default signature
// validation policy, prometheus-alerts.yaml the alerting rules. The
// Grafana dashboard, the systemd unit and the nginx configuration live
// beside them for operators (docs/deployment.md); they are not embedded.
package configs

import "embed"

// Files holds every *.yaml file of this directory.
//
//go:embed *.yaml
var Files embed.FS

// Default is the name of the embedded default configuration.
const Default = "dev.yaml"

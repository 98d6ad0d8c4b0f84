package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yagona/yagona/configs"
)

// TestDeploymentFiles: the systemd unit and the nginx configuration agree
// with configs/production.yaml: the data directory is the one writable
// path, the secrets the configuration names come from the EnvironmentFile,
// nginx forwards the client certificate in the header the provider reads
// and the request id Yagona logs, and proxies to the listeners' ports.
func TestDeploymentFiles(t *testing.T) {
	prod, err := configs.Files.ReadFile("production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(prod)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	unit := read("systemd/yagona.service")
	for _, want := range []string{
		"ReadWritePaths=" + cfg.DataDir + "\n",
		"EnvironmentFile=",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=on-failure", "LimitNOFILE=",
		"ExecStart=/usr/local/bin/yagona serve --config ",
		cfg.Keys.PassphraseEnv + "=", cfg.IDP.SubjectSecretEnv + "=",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("yagona.service lacks %q", want)
		}
	}

	ng := read("nginx/yagona.conf")
	for _, want := range []string{
		"proxy_set_header " + cfg.IDP.ForwardedCertHeader + " $ssl_client_escaped_cert;",
		"ssl_verify_client optional_no_ca;",
		"proxy_set_header X-Request-ID $request_id;",
		"server_name " + hostOf(cfg.PublicURL.HTTPS) + ";",
		"server_name " + hostOf(cfg.PublicURL.HTTP) + ";",
	} {
		if !strings.Contains(ng, want) {
			t.Errorf("nginx/yagona.conf lacks %q", want)
		}
	}
	upstream := func(port string) *regexp.Regexp { return regexp.MustCompile(`server [0-9.]+:` + port + ` `) }
	for file, body := range map[string]string{"yagona.conf": ng, "yagona-stream.conf": read("nginx/yagona-stream.conf")} {
		if !upstream(portOf(cfg.Listen.HTTPS)).MatchString(body) {
			t.Errorf("nginx/%s has no upstream on the HTTPS listener's port", file)
		}
	}
	if !upstream(portOf(cfg.Listen.HTTP)).MatchString(ng) {
		t.Error("nginx/yagona.conf has no upstream on the plain HTTP listener's port")
	}
	// The query string never reaches nginx's access log.
	if strings.Contains(ng, "$request ") || strings.Contains(ng, "$request_uri'") || strings.Contains(ng, "$args") {
		t.Error("nginx/yagona.conf logs the query string")
	}
	// The proxy must be among the trusted proxies for the forwarded
	// certificate to count; the example uses the replicas' network.
	if len(cfg.IDP.TrustedProxies) == 0 {
		t.Error("production.yaml trusts no proxy, so the forwarded certificate is ignored")
	}
}

func hostOf(u string) string {
	_, h, _ := strings.Cut(u, "://")
	h, _, _ = strings.Cut(h, "/")
	return h
}

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

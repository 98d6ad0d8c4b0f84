// Command yagona is Yagona's one binary: the server (serve, init, migrate,
// ceremony), the registration officer's and operator's tools (ra, cert),
// and the citizen's tools (key new, cert enroll, cert renew).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/internal/config"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		os.Exit(1)
	}
}

// globals are the flags every command shares.
type globals struct {
	configPath string
	dataDir    string
	jsonOut    bool
	out, errw  io.Writer
}

func newRootCmd(out, errw io.Writer) *cobra.Command {
	g := &globals{out: out, errw: errw}
	root := &cobra.Command{
		Use:           "yagona",
		Short:         "Yagona: certificate authority, single sign-on and electronic signatures for e-government",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetOut(out)
	root.SetErr(errw)
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "configuration file (default: the embedded configs/dev.yaml)")
	root.PersistentFlags().StringVar(&g.dataDir, "data", "", "data directory (overrides data_dir in the configuration)")
	root.PersistentFlags().BoolVar(&g.jsonOut, "json", false, "print results as JSON")
	root.AddCommand(newServeCmd(g), newInitCmd(g), newMigrateCmd(g), newOperatorCmd(g), newRACmd(g), newCertCmd(g), newKeyCmd(g), newClientCmd(g), newAgentCmd(g), newLoginCmd(g), newLogCmd(g), newSignCmd(g), newCosignCmd(g), newVerifyCmd(g), newCeremonyCmd(g))
	return root
}

// config loads the configuration with the --data override applied.
func (g *globals) config() (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, err
	}
	if g.dataDir != "" {
		cfg.DataDir = g.dataDir
	}
	return cfg, nil
}

// print writes v as JSON with --json, else the text from text().
func (g *globals) print(v any, text func(w io.Writer)) error {
	if g.jsonOut {
		enc := json.NewEncoder(g.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(g.out)
	return nil
}

func fprintf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

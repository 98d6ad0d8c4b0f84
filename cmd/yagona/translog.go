package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yagona/yagona/pkg/certfile"
	"github.com/yagona/yagona/pkg/translog"
)

// newLogCmd is `yagona log`: fetch proofs from a server, and verify them
// offline against the log's verifier key.
func newLogCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "log", Short: "Transparency log: fetch proofs and verify them offline"}
	cmd.AddCommand(newLogFetchCmd(g), newLogVerifyCmd(g))
	return cmd
}

func newLogFetchCmd(g *globals) *cobra.Command {
	var f clientFlags
	var serial, what, out string
	var from, to int64
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Fetch the verifier key, the latest checkpoint, an inclusion proof (--serial) or a consistency proof (--from, --to)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.newClient(&f, false)
			if err != nil {
				return err
			}
			path := ""
			switch {
			case what == "key":
				path = "/log/key"
			case what == "checkpoint":
				path = "/log/checkpoint"
			case serial != "":
				path = "/log/proof/certificate/" + url.PathEscape(strings.ToLower(serial))
			case from > 0 && to > 0:
				path = fmt.Sprintf("/log/consistency?from=%d&to=%d", from, to)
			default:
				return errors.New("give --what key|checkpoint, --serial, or --from and --to")
			}
			body, err := c.Get(cmd.Context(), path)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			return os.WriteFile(out, body, 0o644)
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&what, "what", "", "key or checkpoint")
	cmd.Flags().StringVar(&serial, "serial", "", "certificate serial (hex): its inclusion proof against the latest checkpoint")
	cmd.Flags().Int64Var(&from, "from", 0, "consistency proof: older tree size")
	cmd.Flags().Int64Var(&to, "to", 0, "consistency proof: newer tree size")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

func newLogVerifyCmd(g *globals) *cobra.Command {
	var keyFile, bundle, certFile, oldCP, newCP, consistency string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify offline: an inclusion proof (--bundle [--cert]) or the consistency of two checkpoints (--old --new --consistency)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kb, err := os.ReadFile(keyFile)
			if err != nil {
				return fmt.Errorf("--key-file: %w", err)
			}
			vkey := strings.TrimSpace(string(kb))
			switch {
			case bundle != "":
				var b translog.InclusionBundle
				if err := readJSONFile(bundle, &b); err != nil {
					return err
				}
				var entry []byte
				if certFile != "" {
					certs, err := certfile.Read(certFile)
					if err != nil {
						return err
					}
					entry = translog.LeafData("certificate", certs[0].Raw)
				}
				tree, err := b.Verify(vkey, entry)
				if err != nil {
					return err
				}
				return g.print(map[string]any{"verified": true, "kind": b.Kind, "ref": b.Ref, "index": b.Index, "tree_size": tree.Size, "origin": tree.Origin},
					func(w io.Writer) {
						fprintf(w, "OK: %s %s is entry %d of %s (tree size %d)\n", b.Kind, b.Ref, b.Index, tree.Origin, tree.Size)
					})
			case oldCP != "" && newCP != "" && consistency != "":
				ob, err1 := os.ReadFile(oldCP)
				nb, err2 := os.ReadFile(newCP)
				var cb translog.ConsistencyBundle
				if err := errors.Join(err1, err2, readJSONFile(consistency, &cb)); err != nil {
					return err
				}
				older, newer, err := cb.Verify(vkey, ob, nb)
				if err != nil {
					return err
				}
				return g.print(map[string]any{"verified": true, "from": older.Size, "to": newer.Size},
					func(w io.Writer) {
						fprintf(w, "OK: the tree of size %d is a prefix of the tree of size %d\n", older.Size, newer.Size)
					})
			}
			return errors.New("give --bundle, or --old, --new and --consistency")
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "the log's verifier key (from `yagona log fetch --what key`)")
	cmd.Flags().StringVar(&bundle, "bundle", "", "inclusion bundle (from `yagona log fetch --serial`)")
	cmd.Flags().StringVar(&certFile, "cert", "", "the certificate the bundle must be for")
	cmd.Flags().StringVar(&oldCP, "old", "", "older signed checkpoint")
	cmd.Flags().StringVar(&newCP, "new", "", "newer signed checkpoint")
	cmd.Flags().StringVar(&consistency, "consistency", "", "consistency proof (from `yagona log fetch --from --to`)")
	_ = cmd.MarkFlagRequired("key-file")
	return cmd
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

package translog_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/translog"
)

// Append entries, sign a checkpoint, and prove one entry's inclusion the
// way an offline verifier does: from the checkpoint, the verifier key and
// the entry's bytes.
func ExampleLog_InclusionProof() {
	dir, _ := os.MkdirTemp("", "translog-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "log.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	lg, err := translog.New(translog.Config{Origin: "id.example.uz/log", Key: key}, st)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Entries are queued with what they record; the sequencer appends them.
	for _, serial := range []string{"1a", "1b", "1c"} {
		_ = st.QueueLogEntry(ctx, store.LogEntry{Kind: "certificate", Ref: serial, Data: []byte("DER of " + serial), CreatedAt: time.Now()})
	}
	n, _ := lg.Integrate(ctx)
	cp, _ := lg.Checkpoint(ctx)
	fmt.Println("appended", n)

	tree, err := translog.VerifyCheckpoint(cp.Note, lg.VerifierKey())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("checkpoint of", tree.Origin, "size", tree.Size)

	proof, _ := lg.InclusionProof(ctx, 1, tree.Size)
	leaf := translog.LeafData("certificate", []byte("DER of 1b"))
	fmt.Println("entry 1 included:", translog.VerifyInclusion(tree, 1, leaf, proof) == nil)
	forged := translog.LeafData("certificate", []byte("DER of 1x"))
	fmt.Println("forged entry included:", translog.VerifyInclusion(tree, 1, forged, proof) == nil)
	// Output:
	// appended 3
	// checkpoint of id.example.uz/log size 3
	// entry 1 included: true
	// forged entry included: false
}

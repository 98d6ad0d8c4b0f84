package translog

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrOtherEntry is an inclusion bundle for another entry than the one
// the verifier holds.
var ErrOtherEntry = errors.New("translog: the proof is for another entry")

// Verify checks the bundle offline: its checkpoint is signed by the log
// whose verifier key is vkey, and its leaf is entry Index of that tree.
// With entry non-nil (LeafData of the kind and bytes the verifier holds,
// a certificate's DER say) the leaf must be that entry. It returns the
// tree the proof is against.
func (b InclusionBundle) Verify(vkey string, entry []byte) (Tree, error) {
	tree, err := VerifyCheckpoint([]byte(b.Checkpoint), vkey)
	if err != nil {
		return Tree{}, err
	}
	if entry != nil && !bytes.Equal(b.Leaf, entry) {
		return Tree{}, ErrOtherEntry
	}
	if err := VerifyInclusion(tree, b.Index, b.Leaf, b.Proof); err != nil {
		return Tree{}, fmt.Errorf("inclusion proof: %w", err)
	}
	return tree, nil
}

// Verify checks the bundle offline against two signed checkpoints of the
// log whose verifier key is vkey: the tree of the older one is a prefix
// of the newer one's. It returns both trees.
func (b ConsistencyBundle) Verify(vkey string, older, newer []byte) (Tree, Tree, error) {
	o, err := VerifyCheckpoint(older, vkey)
	if err != nil {
		return Tree{}, Tree{}, fmt.Errorf("older checkpoint: %w", err)
	}
	n, err := VerifyCheckpoint(newer, vkey)
	if err != nil {
		return Tree{}, Tree{}, fmt.Errorf("newer checkpoint: %w", err)
	}
	if b.From != o.Size || b.To != n.Size {
		return Tree{}, Tree{}, fmt.Errorf("translog: the proof is from %d to %d, the checkpoints are %d and %d", b.From, b.To, o.Size, n.Size)
	}
	if err := VerifyConsistency(o, n, b.Proof); err != nil {
		return Tree{}, Tree{}, fmt.Errorf("consistency proof: %w", err)
	}
	return o, n, nil
}

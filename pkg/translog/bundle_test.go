package translog

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestBundles: bundles verify offline against the log's key, for the
// entry the verifier holds, and fail for anything else.
func TestBundles(t *testing.T) {
	ctx := context.Background()
	l, st := newLog(t)
	queue(t, st, 3, 0)
	_, _ = l.Integrate(ctx)
	cp1, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	queue(t, st, 4, 3)
	_, _ = l.Integrate(ctx)
	cp2, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newLog(t)
	proof, err := l.InclusionProof(ctx, 2, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	inc := InclusionBundle{Kind: "certificate", Ref: "2", Index: 2, Leaf: LeafData("certificate", []byte("der-2")), Proof: proof, Checkpoint: string(cp2.Note)}
	incTests := []struct {
		name  string
		vkey  string
		entry []byte
		ok    bool
	}{
		{"any entry", l.VerifierKey(), nil, true},
		{"this entry", l.VerifierKey(), LeafData("certificate", []byte("der-2")), true},
		{"another entry", l.VerifierKey(), LeafData("certificate", []byte("der-1")), false},
		{"another log", other.VerifierKey(), nil, false},
	}
	for _, tc := range incTests {
		tree, err := inc.Verify(tc.vkey, tc.entry)
		if tc.ok != (err == nil) || (tc.ok && tree.Size != cp2.Size) {
			t.Errorf("inclusion, %s: %+v %v", tc.name, tree, err)
		}
	}
	if _, err := inc.Verify(l.VerifierKey(), LeafData("certificate", []byte("der-1"))); !errors.Is(err, ErrOtherEntry) {
		t.Errorf("another entry: %v, want ErrOtherEntry", err)
	}
	tp, err := l.ConsistencyProof(ctx, cp1.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	cons := ConsistencyBundle{From: cp1.Size, To: cp2.Size, Proof: tp}
	consTests := []struct {
		name         string
		b            ConsistencyBundle
		older, newer []byte
		ok           bool
	}{
		{"consistent", cons, cp1.Note, cp2.Note, true},
		{"swapped checkpoints", cons, cp2.Note, cp1.Note, false},
		{"wrong sizes", ConsistencyBundle{From: 1, To: cp2.Size, Proof: tp}, cp1.Note, cp2.Note, false},
		{"empty proof", ConsistencyBundle{From: cp1.Size, To: cp2.Size, Proof: tlog.TreeProof{}}, cp1.Note, cp2.Note, false},
	}
	for _, tc := range consTests {
		o, n, err := tc.b.Verify(l.VerifierKey(), tc.older, tc.newer)
		if tc.ok != (err == nil) || (tc.ok && (o.Size != cp1.Size || n.Size != cp2.Size)) {
			t.Errorf("consistency, %s: %+v %+v %v", tc.name, o, n, err)
		}
	}
}

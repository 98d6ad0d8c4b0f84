package api

import (
	"strconv"
	"testing"
)

func TestCRLShard(t *testing.T) {
	for _, tc := range []struct {
		file  string
		shard int64
		ok    bool
	}{
		{"issuing.crl", 0, true},
		{"issuing-20780.crl", 20780, true},
		{"issuing-9223372036854775807.crl", 9223372036854775807, true},
		{"issuing-9223372036854775808.crl", 0, false},
		{"issuing-0.crl", 0, false},
		{"issuing-020780.crl", 0, false},
		{"issuing-+5.crl", 0, false},
		{"issuing--5.crl", 0, false},
		{"issuing-.crl", 0, false},
		{"issuing5.crl", 0, false},
		{"issuing", 0, false},
		{"other.crl", 0, false},
		{"issuing-1.crl.crl", 0, false},
		{"../issuing.crl", 0, false},
	} {
		shard, ok := crlShard(tc.file, "issuing")
		if shard != tc.shard || ok != tc.ok {
			t.Errorf("%q: %d %v, want %d %v", tc.file, shard, ok, tc.shard, tc.ok)
		}
	}
}

// FuzzCRLShard: an accepted name is exactly the canonical name of its
// shard.
func FuzzCRLShard(f *testing.F) {
	for _, s := range []string{"issuing.crl", "issuing-1.crl", "issuing-01.crl", "issuing--1.crl", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		shard, ok := crlShard(file, "issuing")
		if !ok {
			return
		}
		want := "issuing.crl"
		if shard != 0 {
			want = "issuing-" + strconv.FormatInt(shard, 10) + ".crl"
		}
		if shard < 0 || file != want {
			t.Fatalf("%q accepted as shard %d", file, shard)
		}
	})
}

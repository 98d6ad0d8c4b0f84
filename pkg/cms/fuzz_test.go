package cms

import (
	"testing"
)

// FuzzVerify: no input panics Verify, and whatever it accepts has a
// verified signer with a certificate.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		for _, det := range [][]byte{nil, []byte("yagona")} {
			s, err := Verify(der, det)
			if err == nil && (len(s.Signers) == 0 || s.Signers[0].Certificate == nil) {
				t.Fatalf("accepted without a signer: %+v", s)
			}
		}
	})
}

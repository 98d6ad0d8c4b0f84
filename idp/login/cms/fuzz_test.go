package cms

import (
	"testing"

	cmssig "github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/statement"
)

// FuzzLoginSignature drives the CMS intake of the login: the signature
// field's decoding and verification never panic.
func FuzzLoginSignature(f *testing.F) {
	f.Add("MIIBAgMEBQ==")
	f.Add("-----BEGIN CMS-----\nMAA=\n-----END CMS-----")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, sig string) {
		der, err := decodeSignature(sig)
		if err != nil {
			return
		}
		_, _ = cmssig.Verify(der, nil)
		_, _ = cmssig.Verify(der, []byte(statement.Header))
	})
}

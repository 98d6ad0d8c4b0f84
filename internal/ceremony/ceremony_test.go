package ceremony

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yagona/yagona/internal/config"
)

// TestRefusals: a ceremony needs an operator's name and keys on a token;
// it refuses before it starts and writes no transcript. (The ceremony
// itself runs on SoftHSM2 in cmd/yagona's TestCeremony.)
func TestRefusals(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	tests := []struct{ name, operator, want string }{
		{"no operator", " ", "--operator"},
		{"file keys", "Aziz Karimov", "PKCS#11"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		path, err := (&Ceremony{Config: cfg, Operator: tc.operator}).Run(&out)
		if err == nil || !strings.Contains(err.Error(), tc.want) || path != "" || out.Len() != 0 {
			t.Errorf("%s: %q %v, printed %q", tc.name, path, err, out.String())
		}
	}
}

package login

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMethodImports keeps the seam one-way: no package under idp/login
// imports the provider (package idp), and no method imports another
// method; a method may use this package and libraries only. It fails,
// never skips, when the import graph cannot be read.
func TestMethodImports(t *testing.T) {
	const idp = "github.com/yagona/yagona/idp"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, idp+"/login/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("go list found only %d packages under idp/login", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := fields[0]
		for _, dep := range fields[1:] {
			switch {
			case dep == idp:
				t.Errorf("%s imports the provider %s", pkg, dep)
			case strings.HasPrefix(dep, idp+"/login/"):
				t.Errorf("%s imports %s: a method imports no other method", pkg, dep)
			}
		}
	}
}

package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBranchOnErrorText enforces "error kinds, not text": no non-test
// code decides anything by an error's message. A call of Error() may be
// logged or shown, but never compared (==, !=, switch) or searched
// (strings.Contains and friends, bytes.Contains, regexp matching): the
// outcome a caller branches on is a sentinel (errors.Is) or a type
// (errors.As). Tests may still assert on message text.
func TestNoBranchOnErrorText(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, pos := range errorTextBranches(f) {
			t.Errorf("%s: branches on an error's text; wrap a sentinel or type and test it with errors.Is/As", fset.Position(pos))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestErrorTextBranchesFound makes sure the check above can fail.
func TestErrorTextBranchesFound(t *testing.T) {
	src := `package p
func f(err error, b []byte) {
	if err.Error() == "x" {}
	if "x" != err.Error() {}
	if strings.Contains(err.Error(), "x") {}
	if strings.HasPrefix(err.Error(), "x") {}
	if bytes.Contains([]byte(err.Error()), b) {}
	switch err.Error() {}
	if re.MatchString(err.Error()) {}
	log.Print(err.Error())
	msg := "failed: " + err.Error()
	_ = msg
}`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(errorTextBranches(f)); got != 7 {
		t.Fatalf("found %d branches on error text, want 7", got)
	}
}

// matchers are the functions whose use on an error's text is a branch.
var matchers = map[string]bool{
	"Contains": true, "ContainsAny": true, "HasPrefix": true, "HasSuffix": true, "EqualFold": true,
	"Index": true, "Cut": true, "Match": true, "MatchString": true, "Count": true,
}

func errorTextBranches(f *ast.File) []token.Pos {
	var found []token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (callsError(n.X) || callsError(n.Y)) {
				found = append(found, n.Pos())
			}
		case *ast.SwitchStmt:
			if n.Tag != nil && callsError(n.Tag) {
				found = append(found, n.Pos())
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && matchers[sel.Sel.Name] {
				for _, a := range n.Args {
					if callsError(a) {
						found = append(found, n.Pos())
						break
					}
				}
			}
		}
		return true
	})
	return found
}

// callsError reports whether e contains a call x.Error() with no
// arguments.
func callsError(e ast.Expr) bool {
	hit := false
	ast.Inspect(e, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && len(c.Args) == 0 {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" {
				hit = true
			}
		}
		return !hit
	})
	return hit
}

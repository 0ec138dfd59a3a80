package recording_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// TestExportedDocumented: every exported name of the package has a doc
// comment, the methods a type gets from an unexported type it embeds
// included (go doc lists them with the type): CallContext's String and
// Value, promoted from the context node it embeds, had none.
func TestExportedDocumented(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg := pkgs["recording"]
	if pkg == nil {
		t.Fatal("no package recording")
	}
	files := make([]*ast.File, 0, len(pkg.Files))
	for _, f := range pkg.Files {
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/goappstats/appstats/recording", doc.AllMethods)
	if err != nil {
		t.Fatal(err)
	}
	undocumented := func(what, d string) {
		if strings.TrimSpace(d) == "" {
			t.Errorf("%s has no doc comment", what)
		}
	}
	for _, f := range p.Funcs {
		undocumented(f.Name, f.Doc)
	}
	for _, ty := range p.Types {
		undocumented(ty.Name, ty.Doc)
		for _, f := range ty.Funcs {
			undocumented(f.Name, f.Doc)
		}
		for _, m := range ty.Methods {
			if ast.IsExported(m.Name) {
				undocumented(ty.Name+"."+m.Name, m.Doc)
			}
		}
	}
}

package recording_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestExportedDocumented: every exported name of the package has a doc
// comment, the methods a type gets from an unexported type it embeds
// included (go doc lists them with the type): CallContext's String and
// Value, promoted from the context node it embeds, had none.
func TestExportedDocumented(t *testing.T) {
	fset := token.NewFileSet()
	// The package's files, one by one (parser.ParseDir is deprecated).
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "recording" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		t.Fatal("no package recording")
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

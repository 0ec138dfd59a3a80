package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestExportOldLayout exports directories written by older layouts of
// badgerstore (its testdata: v1-store, before records were kept in
// blocks, 48 records, each a summary and a full record; v2-store, the same
// records in blocks, each with its summary; v3-store, the same records with
// their summaries in blocks too, an s entry per record), imports the export into a
// new directory, which keeps records and summaries in blocks, and exports
// that again: the two exports are the same.
func TestExportOldLayout(t *testing.T) {
	for _, v := range []string{"v1-store", "v2-store", "v3-store"} {
		t.Run(v, func(t *testing.T) { testExportOldLayout(t, v) })
	}
}

func testExportOldLayout(t *testing.T, fixture string) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dir, os.DirFS("../../store/badgerstore/testdata/"+fixture)); err != nil {
		t.Fatal(err)
	}
	code, first, stderr := appstats(t, "", "export", "-data", dir)
	if code != 0 || strings.Count(first, "\n") != 48 {
		t.Fatalf("export = %d, %d lines, %s", code, strings.Count(first, "\n"), stderr)
	}
	target := filepath.Join(t.TempDir(), "new")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := appstats(t, first, "import", "-data", target)
	if code != 0 || !strings.Contains(stdout, "imported 48 records (0 already stored)") {
		t.Fatalf("import = %d, %q %q", code, stdout, stderr)
	}
	code, again, _ := appstats(t, "", "export", "-data", target)
	if code != 0 {
		t.Fatal(code)
	}
	if !reflect.DeepEqual(parseLines(t, again), parseLines(t, first)) {
		t.Error("the export of the import differs from the export of the old directory")
	}
}

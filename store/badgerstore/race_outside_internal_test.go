//go:build unix

package badgerstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/sys/unix"
)

// TestReadersRefusePipeSwappedIn: each function that opens a file of a
// store's directory after checkDir or Snapshot checked its type (see
// badgerFileType) — checkTable, checkLog, Snapshot's manifestTables and
// copyRange — refuses a named pipe found there (a file replaced by one
// since the check) with an error naming it a named pipe, rather than
// waiting without end for a writer or taking it for damage. Before,
// checkLog, manifestTables and copyRange opened it for reading and waited
// (released here after a minute by returnsOrUnblocks), and checkTable
// called it an empty table: damage, for which Open moves the directory
// aside. (checkDir's read of the MANIFEST and copyFile open through the
// same function.)
func TestReadersRefusePipeSwappedIn(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	bo := o.badger(t.TempDir())
	cases := map[string]func(path string) error{
		"checkTable": func(path string) error { return checkTable(path, options.None, bo) },
		"checkLog":   func(path string) error { _, err := checkLog(path, vlogHeaderSize); return err },
		"manifestTables": func(path string) error {
			_, err := manifestTables(path)
			return err
		},
		"copyRange": func(path string) error {
			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				return err
			}
			defer out.Close()
			return copyRange(out, path, 0, 10)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "000001.vlog")
			if err := unix.Mkfifo(path, 0o644); err != nil {
				t.Skipf("no named pipes here: %v", err)
			}
			err := returnsOrUnblocks(t, path, name+" of a named pipe", func() error { return f(path) })
			if err == nil || !strings.Contains(err.Error(), "000001.vlog") || !strings.Contains(err.Error(), "named pipe") {
				t.Errorf("%s of a named pipe: %v; want an error naming it a named pipe", name, err)
			}
		})
	}
}

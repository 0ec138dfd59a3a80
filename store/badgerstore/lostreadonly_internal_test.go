package badgerstore

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// dirSum returns a digest of every file's name and bytes under dir.
func dirSum(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// TestLostMinuteReadOnly: a store opened read-only on a directory with a
// damaged index block finds it, and its Stats and Series agree with List,
// at once and after a retention pass and a fold (which cannot mark the
// minute's rollups: it stays counted from summaries), and nothing is
// written to the directory, Close included.
func TestLostMinuteReadOnly(t *testing.T) {
	dir, all := damagedIndexDir(t)
	before := dirSum(t, dir)
	o := blockOpts()
	o.ReadOnly = true
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	findDamaged(t, s, all)
	start := all[0][0].Start
	statsAgree(t, s, start, 20, "found, read-only")
	_, _ = s.Retain(context.Background())
	if err := s.fold(); err != nil {
		t.Logf("fold: %v", err)
	}
	statsAgree(t, s, start, 20, "after retention and fold, read-only")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if dirSum(t, dir) != before {
		t.Error("a read-only store changed its directory")
	}
	// Writable again: the minute still agrees.
	s, err = Open(dir, blockOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	findDamaged(t, s, all)
	statsAgree(t, s, start, 20, "reopened writable")
}

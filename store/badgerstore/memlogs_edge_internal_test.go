package badgerstore

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotOfMaxMemLogs (guard) checks Snapshot's refusal at its edge: a
// source with exactly maxMemLogs (66) non-empty memtable logs, which Open
// accepts, is copied, and the copy opens with all of them; one more is
// refused before anything is copied (dst is not made).
func TestSnapshotOfMaxMemLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it copies 67 memtable logs")
	}
	for _, n := range []int{maxMemLogs, maxMemLogs + 1} {
		src := storeWithLogs(t, n)
		dst := filepath.Join(t.TempDir(), "copy")
		err := Snapshot(src, dst)
		if n > maxMemLogs {
			if err == nil {
				t.Errorf("Snapshot of %d logs: no error, want a refusal", n)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("Snapshot of %d logs left %s: %v", n, dst, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Snapshot of %d logs: %v", n, err)
		}
		if got := len(memLogs(dst)); got != n {
			t.Errorf("the copy of %d logs holds %d", n, got)
		}
		s, err := Open(dst, Options{})
		if err != nil {
			t.Fatalf("Open of the copy of %d logs: %v", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
